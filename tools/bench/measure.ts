import * as tf from '@tensorflow/tfjs';

export interface Timing {
  ms: number[];
  msMedian: number;
  msMin: number;
  /** Median CPU time (user + system, all threads) per step: robust to a loaded machine for single-threaded backends. */
  cpuMsMedian: number;
  rssPeakMb: number;
  tensorGrowth: number;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const rssMb = () => process.memoryUsage.rss() / 2 ** 20;

/**
 * `warmup` untimed calls, then `runs` timed ones. `step` must leave no tensors behind and
 * must not resolve before the backend finished (it reads a value back). Tensor growth is
 * counted from after the warm-up (optimizer slots are made in the first step) to the end.
 * RSS is sampled after every call (JS is blocked while a kernel runs), so the peak is the
 * largest resident size seen between steps.
 */
export async function timeSteps(step: () => Promise<void>, warmup: number, runs: number): Promise<Timing> {
  let rssPeakMb = rssMb();
  for (let i = 0; i < warmup; i++) {
    await step();
    rssPeakMb = Math.max(rssPeakMb, rssMb());
  }
  const tensorsBefore = tf.memory().numTensors;
  const ms: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
    rssPeakMb = Math.max(rssPeakMb, rssMb());
  }
  return { ms, msMedian: median(ms), msMin: Math.min(...ms), cpuMsMedian: median(cpuMs), rssPeakMb, tensorGrowth: tf.memory().numTensors - tensorsBefore };
}

/** FLOPs of the convolutions and matrix products one call of `fn` runs (from tf.profile's kernel list). */
export async function countFlops(fn: () => Promise<void>): Promise<number> {
  const info = await tf.profile(fn);
  let flops = 0;
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  for (const k of info.kernels) {
    const ins = k.inputShapes as number[][];
    const outs = k.outputShapes as number[][];
    switch (k.name) {
      case 'Conv2D':
      case 'FusedConv2D': {
        const [fh, fw, ci] = ins[1];
        flops += 2 * size(outs[0]) * fh * fw * ci;
        break;
      }
      case 'Conv2DBackpropInput': {
        const [fh, fw, , co] = ins[1]; // dy, filter
        flops += 2 * size(outs[0]) * fh * fw * co;
        break;
      }
      case 'Conv2DBackpropFilter': {
        const [fh, fw, ci, co] = outs[0];
        const dy = ins[1];
        flops += 2 * (size(dy) / dy[3]) * fh * fw * ci * co;
        break;
      }
      case 'BatchMatMul':
      case '_FusedMatMul': {
        const out = outs[0];
        const a = ins[0];
        // The profile lists no attrs: A is [m, k] or (transposed) [k, m]; K is its dim that is not m.
        const m = out[out.length - 2];
        const [a0, a1] = a.slice(-2);
        const k = a0 === m ? a1 : a0;
        flops += 2 * size(out) * k;
        break;
      }
    }
  }
  return flops;
}

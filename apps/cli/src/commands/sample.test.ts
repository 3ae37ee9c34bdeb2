import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createContainer,
  parseNpz,
  pipelineModule,
  type SamplingPipeline,
  TOKENS,
  ToyClassifier,
  ToyDenoiser,
  toInt32,
  useBackend,
} from '@adm/core';
import { classifierFreeGuidanceFactory, guidanceModule, guidanceModuleOf } from '@adm/guidance';
import { dpmSolverPPSamplerFactory, samplersModule, samplersModuleOf } from '@adm/samplers';
import { schedulesModule } from '@adm/schedules';
import { createClassifier, createModel, createSuperResModel, saveModelFolder } from '@adm/unet';
import { main } from '../main.js';

let dir: string;

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(args);
    return { code, err: err.join('\n') };
  } finally {
    error.mockRestore();
    stderr.mockRestore();
  }
}

/** A tiny random model folder (config.json + model.safetensors) made with @adm/unet. */
async function modelFolder(path: string, flags: Record<string, string | number | boolean>, kind: 'model' | 'classifier' | 'superres'): Promise<void> {
  const net = kind === 'model' ? createModel(flags, { seed: 1 }) : kind === 'superres' ? createSuperResModel(flags, { seed: 3 }) : createClassifier(flags, { seed: 2 });
  await saveModelFolder(path, net, flags);
  net.dispose();
}

// 4x4 images: the classifier gradient on the cpu backend is the slow part of these runs.
const MODEL_FLAGS = {
  image_size: 4,
  in_channels: 1,
  num_channels: 32,
  num_res_blocks: 1,
  channel_mult: '1',
  attention_resolutions: '',
  num_heads: 1,
  class_cond: true,
  num_classes: 3,
  learn_sigma: true,
  diffusion_steps: 100,
  noise_schedule: 'linear',
};

const CLASSIFIER_FLAGS = {
  image_size: 4,
  in_channels: 1,
  num_classes: 3,
  channel_mult: '1',
  classifier_width: 32,
  classifier_depth: 1,
  classifier_attention_resolutions: '',
  num_head_channels: 32,
  diffusion_steps: 100,
};

beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'adm-sample-'));
  await modelFolder(join(dir, 'model'), MODEL_FLAGS, 'model');
  await modelFolder(join(dir, 'classifier'), CLASSIFIER_FLAGS, 'classifier');
  await modelFolder(join(dir, 'classifier8'), { ...CLASSIFIER_FLAGS, image_size: 8 }, 'classifier');
  await modelFolder(join(dir, 'classifier5'), { ...CLASSIFIER_FLAGS, num_classes: 5 }, 'classifier');
  const { image_size: _s, class_cond: _c, ...srFlags } = MODEL_FLAGS;
  await modelFolder(join(dir, 'superres'), { ...srFlags, model_type: 'superres', large_size: 8, small_size: 4 }, 'superres');
  await modelFolder(join(dir, 'superres16'), { ...srFlags, model_type: 'superres', large_size: 16, small_size: 8 }, 'superres');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Decode an 8-bit gray PNG with filter type 0 rows (what encodePng writes) using node:zlib. */
function decodeGrayPng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  while (o < png.length) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = dv.getUint32(o + 8);
      height = dv.getUint32(o + 12);
      expect([data[8], data[9]]).toEqual([8, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width + 1)]).toBe(0);
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, pixels };
}

describe('adm sample', () => {
  it('writes an npz (arr_0 uint8 NHWC, arr_1 labels) and a PNG grid of the same images', async () => {
    const out = join(dir, 'out');
    const r = await run([
      'sample', '--model', join(dir, 'model'), '--classifier', join(dir, 'classifier'), '--scale', '2',
      '--class', '1,2', '--steps', 'ddim5', '--batch', '2', '--num-samples', '3', '--seed', '4', '--backend', 'cpu', '--out', out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const npz = parseNpz(new Uint8Array(await readFile(join(out, 'samples_3x4x4x1.npz'))));
    const arr0 = npz.get('arr_0')!;
    expect(arr0.dtype).toBe('U8');
    expect(arr0.shape).toEqual([3, 4, 4, 1]);
    expect(Array.from(toInt32(npz.get('arr_1')!))).toEqual([1, 2, 1]);
    // The grid: 2 columns of 4x4 images with 2-pixel padding.
    const png = decodeGrayPng(new Uint8Array(await readFile(join(out, 'grid.png'))));
    expect([png.width, png.height]).toEqual([2 * 4 + 3 * 2, 2 * 4 + 3 * 2]);
    const img = arr0.data as Uint8Array;
    for (let k = 0; k < 3; k++) {
      const [x0, y0] = [2 + (k % 2) * 6, 2 + Math.floor(k / 2) * 6];
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) expect(png.pixels[(y0 + y) * png.width + x0 + x]).toBe(img[k * 16 + y * 4 + x]);
    }
    const cfg = JSON.parse(await readFile(join(out, 'pipeline.json'), 'utf8'));
    expect(cfg.guidance).toEqual([{ type: 'classifier', scale: 2 }]);

    // Same seed, same images; another scale, other images.
    const again = join(dir, 'again');
    const other = join(dir, 'other');
    const base = ['sample', '--model', join(dir, 'model'), '--classifier', join(dir, 'classifier'), '--class', '1,2', '--steps', 'ddim5', '--batch', '2', '--num-samples', '3', '--seed', '4', '--backend', 'cpu'];
    expect((await run([...base, '--scale', '2', '--out', again])).code).toBe(0);
    expect((await run([...base, '--scale', '0', '--out', other])).code).toBe(0);
    const a = parseNpz(new Uint8Array(await readFile(join(again, 'samples_3x4x4x1.npz')))).get('arr_0')!.data as Uint8Array;
    const b = parseNpz(new Uint8Array(await readFile(join(other, 'samples_3x4x4x1.npz')))).get('arr_0')!.data as Uint8Array;
    expect(Array.from(a)).toEqual(Array.from(img));
    expect(Array.from(b)).not.toEqual(Array.from(img));
  });

  it('takes a pipeline JSON (--config) and lets flags override it', async () => {
    const cfgPath = join(dir, 'pipeline.json');
    await writeFile(cfgPath, JSON.stringify({ model: join(dir, 'model'), respacing: '4', sampler: 'dpm-solver++', batch_size: 2, classes: [0], seed: 1 }));
    const out = join(dir, 'from-config');
    const r = await run(['sample', '--config', cfgPath, '--classifier', 'none', '--num-samples', '2', '--backend', 'cpu', '--out', out]);
    expect(r.err).toBe('');
    const npz = parseNpz(new Uint8Array(await readFile(join(out, 'samples_2x4x4x1.npz'))));
    expect(Array.from(toInt32(npz.get('arr_1')!))).toEqual([0, 0]);
    const cfg = JSON.parse(await readFile(join(out, 'pipeline.json'), 'utf8'));
    expect(cfg.sampler).toEqual({ name: 'dpm-solver++' });
    expect(cfg.respacing).toBe('4');
  });

  it('runs the upsampling stack from one pipeline JSON: base model, then the super-resolution model', async () => {
    const cfgPath = join(dir, 'stack.json');
    await writeFile(cfgPath, JSON.stringify({ model: join(dir, 'model'), respacing: '3', batch_size: 2, classes: [2], super_res: { model: join(dir, 'superres'), respacing: '2', sampler: 'ddpm' } }));
    const out = join(dir, 'stack');
    const r = await run(['sample', '--config', cfgPath, '--classifier', 'none', '--backend', 'cpu', '--out', out]);
    expect(r.err).toBe('');
    const npz = parseNpz(new Uint8Array(await readFile(join(out, 'samples_2x8x8x1.npz'))));
    expect(npz.get('arr_0')!.shape).toEqual([2, 8, 8, 1]);
    expect(Array.from(toInt32(npz.get('arr_1')!))).toEqual([2, 2]);
    await writeFile(cfgPath, JSON.stringify({ model: join(dir, 'model'), respacing: '3', batch_size: 2, super_res: { model: join(dir, 'superres16') } }));
    const bad = await run(['sample', '--config', cfgPath, '--classifier', 'none', '--backend', 'cpu', '--out', join(dir, 'bad')]);
    expect(bad.err).toMatch(/pipeline\.super_res\.model: upsamples from 8x8 \(small_size\) but the base model makes 4x4 images/);
  });

  it.each([
    [['--model', 'nowhere'], /nowhere.*config\.json not found/],
    [['--classifier', 'classifier8'], /classifier image size 8 does not match the model's 4/],
    [['--classifier', 'classifier5'], /classifier has 5 classes, the class-conditional model 3/],
    [['--class', '7'], /^adm sample: --class: class 7 is out of range: the model has 3 classes/],
    [['--class', 'cat'], /--class: expected class indices/],
    [['--steps', 'ddim30'], /^adm sample: --steps: "ddim30": no integer stride takes exactly 30 of \d+ steps/],
    [['--steps', 'fast'], /^adm sample: --steps: "fast": "fast" is not a step count/],
    [['--sampler', 'ddim', '--eta=-1'], /^adm sample: --eta: must be a number >= 0, got -1$/],
    [['--sampler', 'ddim', '--eta', '-1'], /^adm sample: --eta: Option '--eta' argument is ambiguous\. Did you forget .* use '--eta=-XYZ'\. \(known flags/],
    [['--sampler', 'euler'], /unknown sampler "euler" \(known: ddpm, ddim, dpm-solver\+\+\)/],
    [['--batch', '0'], /--batch: expected an integer >= 1/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--eta', '0.5', '--sampler', 'ddpm'], /--eta: only the ddim sampler takes eta/],
  ])('rejects bad input %j with a clear error', async (args, message) => {
    const fix = (a: string) => (a.startsWith('classifier') ? join(dir, a) : a);
    const r = await run(['sample', '--model', join(dir, 'model'), '--steps', 'ddim5', '--backend', 'cpu', '--out', join(dir, 'bad'), ...args.map(fix)]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(message);
  });

  it('needs --out and explains the missing default model', async () => {
    expect((await run(['sample', '--model', join(dir, 'model')])).err).toMatch(/--out: required/);
  });
});

describe('pipelines from different module sets', () => {
  const flags = { diffusion_steps: 40, noise_schedule: 'linear', learn_sigma: true };

  it('DDIM + classifier guidance, then DPM-Solver++ + classifier-free guidance', async () => {
    const denoiser = new ToyDenoiser({ imageSize: 4, channels: 1, learnSigma: true, numClasses: 4, seed: 3 });
    const classifier = new ToyClassifier({ imageSize: 4, channels: 1, numClasses: 4, seed: 5 });
    const a = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule).get<SamplingPipeline>(TOKENS.SamplingPipeline);
    const b = createContainer(pipelineModule, schedulesModule, samplersModuleOf([dpmSolverPPSamplerFactory]), guidanceModuleOf([classifierFreeGuidanceFactory])).get<SamplingPipeline>(
      TOKENS.SamplingPipeline,
    );
    expect(b.samplerNames).toEqual(['dpm-solver++']);
    expect(b.guidanceTypes).toEqual(['classifier-free']);
    const before = tf.memory().numTensors;

    const ra = await a.sample(
      { respacing: 'ddim8', sampler: { name: 'ddim', eta: 0 }, guidance: [{ type: 'classifier', scale: 3 }], batch_size: 3, classes: [0, 1, 2], seed: 1 },
      { models: { model: { denoiser, flags }, classifier: { classifier, flags: {} } } },
    );
    expect(ra.images.shape).toEqual([3, 4, 4, 1]);
    expect(Array.from(ra.labels!)).toEqual([0, 1, 2]);
    const unguided = await a.sample({ respacing: 'ddim8', sampler: 'ddim', batch_size: 3, classes: [0, 1, 2], seed: 1 }, { models: { model: { denoiser, flags } } });
    expect(Array.from(unguided.images.data)).not.toEqual(Array.from(ra.images.data));

    const rb = await b.sample(
      { respacing: '6', sampler: 'dpm-solver++', guidance: [{ type: 'classifier-free', scale: { from: 4, to: 1 }, null_label: 3 }], batch_size: 2, num_samples: 3, classes: 'random', seed: 2 },
      { models: { model: { denoiser, flags } } },
    );
    expect(rb.images.shape).toEqual([3, 4, 4, 1]);
    expect(rb.labels!.every((k) => k >= 0 && k < 4)).toBe(true);
    // The second module set has neither DDIM nor classifier guidance.
    await expect(b.sample({ sampler: 'ddim', batch_size: 1 }, { models: { model: { denoiser, flags } } })).rejects.toThrow(/unknown sampler "ddim" \(known: dpm-solver\+\+\)/);
    await expect(b.sample({ sampler: 'dpm-solver++', guidance: [{ type: 'classifier' }], batch_size: 1 }, { models: { model: { denoiser, flags } } })).rejects.toThrow(/pipeline\.guidance\[0\]\.type: unknown guidance "classifier"/);
    expect(tf.memory().numTensors).toBe(before);
    denoiser.dispose();
    classifier.dispose();
  });

  it('runs the upsampling stack: a guided low-resolution stage, then super-resolution conditioned on it', async () => {
    const base = new ToyDenoiser({ imageSize: 4, channels: 1, learnSigma: true, numClasses: 3, seed: 6 });
    const classifier = new ToyClassifier({ imageSize: 4, channels: 1, numClasses: 3, seed: 7 });
    const inner = new ToyDenoiser({ imageSize: 8, channels: 1, learnSigma: true, seed: 8 });
    const seenLowRes: number[][] = [];
    // A super-res denoiser: records the low-res image it is conditioned on.
    const superRes = {
      info: inner.info,
      apply: (x: tf.Tensor4D, t: tf.Tensor1D, cond: { lowRes?: tf.Tensor4D } = {}) => {
        seenLowRes.push(cond.lowRes ? [...cond.lowRes.shape] : []);
        return inner.apply(x, t);
      },
    };
    const p = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule).get<SamplingPipeline>(TOKENS.SamplingPipeline);
    const events: string[] = [];
    let result;
    for await (const ev of p.run(
      { respacing: 'ddim4', guidance: [{ type: 'classifier', scale: 2 }], batch_size: 2, classes: [2], super_res: { respacing: '3', sampler: 'ddpm' } },
      { models: { model: { denoiser: base, flags }, classifier: { classifier, flags: {} }, superRes: { denoiser: superRes, flags } } },
    )) {
      if (ev.type === 'done') result = ev.result;
      else events.push(`${ev.stage}:${ev.step}/${ev.stageSteps} ${ev.completed}/${ev.total}`);
    }
    expect(events).toEqual(['base:0/4 1/7', 'base:1/4 2/7', 'base:2/4 3/7', 'base:3/4 4/7', 'super_res:0/3 5/7', 'super_res:1/3 6/7', 'super_res:2/3 7/7']);
    expect(seenLowRes).toEqual([[2, 4, 4, 1], [2, 4, 4, 1], [2, 4, 4, 1]]);
    expect(result!.images.shape).toEqual([2, 8, 8, 1]);
    expect(result!.lowRes!.shape).toEqual([2, 4, 4, 1]);
    expect(Array.from(result!.labels!)).toEqual([2, 2]);
    base.dispose();
    classifier.dispose();
    inner.dispose();
  });

  it('keeps memory flat over a 1000-step guided DDPM run', async () => {
    const denoiser = new ToyDenoiser({ imageSize: 2, channels: 1, learnSigma: true, numClasses: 2, seed: 9 });
    const classifier = new ToyClassifier({ imageSize: 2, channels: 1, numClasses: 2, seed: 10 });
    const p = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule).get<SamplingPipeline>(TOKENS.SamplingPipeline);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    let steps = 0;
    for await (const ev of p.run(
      { respacing: '', sampler: 'ddpm', guidance: [{ type: 'classifier', scale: 1 }], batch_size: 1, classes: [1] },
      { models: { model: { denoiser, flags: { ...flags, diffusion_steps: 1000 } }, classifier: { classifier, flags: {} } } },
    )) {
      if (ev.type === 'step') {
        steps++;
        counts.push(tf.memory().numTensors);
      }
    }
    expect(steps).toBe(1000);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    denoiser.dispose();
    classifier.dispose();
  });

  it('stops on abort between steps and frees its tensors', async () => {
    const denoiser = new ToyDenoiser({ imageSize: 2, channels: 1, seed: 11 });
    const p = createContainer(pipelineModule, schedulesModule, samplersModule).get<SamplingPipeline>(TOKENS.SamplingPipeline);
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    let seen = 0;
    await expect(
      (async () => {
        for await (const ev of p.run({ respacing: '20', batch_size: 1, preview_every: 2 }, { signal: ctl.signal, models: { model: { denoiser, flags: { ...flags, learn_sigma: false } } } })) {
          if (ev.type !== 'step') continue;
          seen++;
          if (ev.step % 2 === 1) expect(ev.preview?.shape).toEqual([1, 2, 2, 1]);
          else expect(ev.preview).toBeUndefined();
          if (seen === 5) ctl.abort(new Error('stop here'));
        }
      })(),
    ).rejects.toThrow('stop here');
    expect(seen).toBe(5);
    expect(tf.memory().numTensors).toBe(before);
    denoiser.dispose();
  });
});

// Kinds `ddim_guided` and `ddpm_guided`: guided-diffusion's ddim_sample_loop_progressive /
// p_sample_loop_progressive with and without classifier guidance (cond_fn of
// scripts/classifier_sample.py), every step compared. Everything is read from case.json:
// the diffusion kwargs, the UNet and classifier constructor kwargs, the scale, eta and
// clip_denoised of the recorded call; recorded noise (in.noise) is replayed in call order.
import * as tf from '@tensorflow/tfjs';
import {
  type Conditioning,
  createGaussianDiffusion,
  type GaussianDiffusionFlags,
  type HostTensor,
  nchwHostToNhwc,
  nhwcToNchwDataSync,
  type RandomSource,
  RecordedRandom,
  type Sampler,
  sampleLoop,
  SeededRandom,
  toFloat32,
  toInt32,
} from '@adm/core';
import { ClassifierGuidance } from '@adm/guidance';
import { DdimSampler, DdpmSampler } from '@adm/samplers';
import { scheduleFactory } from '@adm/schedules';
import { type EncoderUNetKwargs, EncoderUNetModel, loadStateDict, UNetModel, type UNetKwargs } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { forwardTolerance } from './unet-common.js';

const FACTOR = 4;
const why = `read from case.json: ${FACTOR} x f64_reference max_abs_diff of each output`;
export const tolerances: Record<string, Tolerance> = {
  'out.<guided|unguided>.sample': { abs: 0, precision: 'float32', why },
  'out.<guided|unguided>.steps.sample': { abs: 0, precision: 'float32', why },
  'out.<guided|unguided>.steps.pred_xstart': { abs: 0, precision: 'float32', why },
  'out.model_timesteps': { abs: 0, precision: 'exact', why: 'exact' },
};

/** A keyword argument of the recorded Python call (e.g. eta=0.0, clip_denoised=True). */
function callArg(call: string, name: string): string | undefined {
  return new RegExp(`\\b${name}\\s*=\\s*([^,)\\s]+)`).exec(call)?.[1];
}

export async function runGuidedSampling(ctx: CaseContext): Promise<void> {
  const file = await ctx.tensors();
  const spec = ctx.spec;
  const sampling = spec.sampling ?? {};
  const call: string = sampling.call ?? '';
  const isDdim = /ddim_sample_loop/.test(call) || (!/p_sample_loop/.test(call) && spec.kind === 'ddim_guided');
  const eta = Number(sampling.eta ?? callArg(call, 'eta') ?? 0);
  const clipArg = sampling.clip_denoised ?? callArg(call, 'clip_denoised');
  const clipDenoised = clipArg === undefined ? true : clipArg === true || clipArg === 'True';

  const diffusion = createGaussianDiffusion(spec.diffusion_call.kwargs as GaussianDiffusionFlags, scheduleFactory);
  const order = Array.from(diffusion.schedule.timestepMap).reverse();
  if (file.has('out.model_timesteps')) ctx.check.equal('out.model_timesteps', order, file.get('out.model_timesteps'));

  const resolved = spec.model_resolved;
  if (resolved?.class && !/UNetModel$/.test(resolved.class)) throw new Error(`${ctx.rel}: model class ${resolved.class} is not handled by this kind`);
  const model = new UNetModel(resolved.kwargs as UNetKwargs, { init: 'zeros' });
  const classifier = spec.classifier_call ? new EncoderUNetModel(spec.classifier_call.kwargs as EncoderUNetKwargs, { init: 'zeros' }) : undefined;
  const xT = nchwHostToNhwc(file.get('in.x_T'), 'in.x_T');
  // Labels: for a class-conditional model and for the classifier's cond_fn.
  const y = file.has('in.y') ? tf.tensor1d(toInt32(file.get('in.y')), 'int32') : undefined;
  const [n, h, w, c] = xT.shape;
  try {
    loadStateDict(model, file.withPrefix('model.'), `${ctx.rel}/tensors.safetensors`);
    if (classifier) loadStateDict(classifier, file.withPrefix('classifier.'), `${ctx.rel}/tensors.safetensors`);
    // model_fn(x, t, y) = model(x, t, y) when class-conditional; cond_fn always gets y.
    if (model.info.numClasses !== undefined && !y) throw new Error(`${ctx.rel}: class-conditional model but no in.y`);
    const cond: Conditioning = model.info.numClasses !== undefined ? { y } : {};
    const scale = Number(spec.classifier_scale);

    for (const tag of ['guided', 'unguided']) {
      if (!file.has(`out.${tag}.sample`)) continue;
      if (tag === 'guided' && (!classifier || !Number.isFinite(scale) || !y)) throw new Error(`${ctx.rel}: guided outputs but no classifier_call / classifier_scale / in.y`);
      const sampler: Sampler = isDdim ? new DdimSampler(eta) : new DdpmSampler();
      const random = recordedNoise(file.has('in.noise') ? file.get('in.noise') : undefined, [n, h, w, c]);
      const guidance = tag === 'guided' ? [new ClassifierGuidance({ scale, classifier: classifier! })] : [];
      const samples: Float32Array[] = [];
      const preds: Float32Array[] = [];
      for (const s of sampleLoop({ diffusion, denoiser: model, sampler, guidance, cond, labels: y, random, clipDenoised, xT })) {
        samples.push(nhwcToNchwDataSync(s.sample));
        preds.push(nhwcToNchwDataSync(s.predXstart));
      }
      const stepShape = [samples.length, n, c, h, w];
      const check = (name: string, values: Float32Array[], shape: number[]) => {
        if (file.has(name)) ctx.check.close(name, concat(values), file.get(name), forwardTolerance(spec, name, FACTOR), shape);
      };
      check(`out.${tag}.sample`, [samples[samples.length - 1]], [n, c, h, w]);
      check(`out.${tag}.steps.sample`, samples, stepShape);
      check(`out.${tag}.steps.pred_xstart`, preds, stepShape);
    }
  } finally {
    tf.dispose([xT, ...(y ? [y] : [])]);
    model.dispose();
    classifier?.dispose();
  }
}

/** in.noise [S, N, C, H, W] (PyTorch's randn_like draws in call order) as NHWC draws. */
function recordedNoise(noise: HostTensor | undefined, shape: [number, number, number, number]): RandomSource {
  // Without recorded noise (eta = 0 DDIM) the draws are multiplied by zero.
  if (!noise) return new SeededRandom(0);
  const [s, ...rest] = noise.shape;
  const per = rest.reduce((a, b) => a * b, 1);
  const values = toFloat32(noise);
  const draws: Float32Array[] = [];
  for (let k = 0; k < s; k++) {
    const nchw = values.subarray(k * per, (k + 1) * per);
    draws.push(tf.tidy(() => nchwHostToNhwc({ dtype: 'F32', shape: rest, data: nchw }).dataSync() as Float32Array));
  }
  if (rest.length !== 4 || rest[0] !== shape[0] || rest[1] !== shape[3] || rest[2] !== shape[1] || rest[3] !== shape[2]) {
    throw new Error(`in.noise: each draw has shape [${rest.join(', ')}], expected [${shape[0]}, ${shape[3]}, ${shape[1]}, ${shape[2]}]`);
  }
  return new RecordedRandom(draws);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const run = runGuidedSampling;

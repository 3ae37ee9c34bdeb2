// Kind `superres_forward`: guided-diffusion's SuperResModel from case.json's model_call
// kwargs, `model.*` weights; compares the bilinear upsampling of in.low_res alone
// (out.upsampled) and the forward pass model(in.x, in.t, low_res=in.low_res) (out.output).
import { loadStateDict } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { compareNetworkOutputs, forwardTolerance, networkFromSpec } from './unet-common.js';

export const tolerances: Record<string, Tolerance> = {
  'out.upsampled': { abs: 0, precision: 'float32', why: 'read from case.json: 4 x f64_reference max_abs_diff' },
  'out.output': { abs: 0, precision: 'float32', why: 'read from case.json: 4 x f64_reference max_abs_diff (float32 with another operation order drifts about as far as the stored float32 values do from float64)' },
};

export async function run(ctx: CaseContext): Promise<void> {
  const file = await ctx.tensors();
  const net = networkFromSpec(ctx.spec);
  if (net.type !== 'superres') throw new Error(`${ctx.rel}: case.json does not describe a SuperResModel`);
  try {
    loadStateDict(net.model, file.withPrefix(net.prefix), `${ctx.rel}/tensors.safetensors`);
    await compareNetworkOutputs(ctx, net, (n) => file.get(n), (n) => file.has(n), (o) => forwardTolerance(ctx.spec, o));
  } finally {
    net.model.dispose();
  }
}

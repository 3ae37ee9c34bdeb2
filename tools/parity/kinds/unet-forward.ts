// Kind `unet_forward`: build guided-diffusion's UNetModel from case.json (model_resolved
// kwargs, or model_call's create_model flags), load the `model.*` weights, run the forward
// pass on in.x / in.t (/ in.y) and compare out.output.
import { loadStateDict } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { compareNetworkOutputs, forwardTolerance, networkFromSpec } from './unet-common.js';

export const tolerances: Record<string, Tolerance> = {
  'out.output': { abs: 0, precision: 'float32', why: 'read from case.json: 4 x f64_reference max_abs_diff (float32 with another operation order drifts about as far as the stored float32 values do from float64)' },
};

export async function run(ctx: CaseContext): Promise<void> {
  const file = await ctx.tensors();
  const net = networkFromSpec(ctx.spec);
  try {
    loadStateDict(net.model, file.withPrefix(net.prefix), `${ctx.rel}/tensors.safetensors`);
    await compareNetworkOutputs(ctx, net, (n) => file.get(n), (n) => file.has(n), (o) => forwardTolerance(ctx.spec, o));
  } finally {
    net.model.dispose();
  }
}

// Kind `classifier`: guided-diffusion's EncoderUNetModel built from case.json's
// classifier_call kwargs, `classifier.*` weights; compares logits, log_softmax and the
// classifier-guidance gradient (cond_fn of scripts/classifier_sample.py) at the case's
// classifier_scale, each when the case stores it.
import { loadStateDict } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { compareNetworkOutputs, forwardTolerance, networkFromSpec } from './unet-common.js';

const why = 'read from case.json: 4 x f64_reference max_abs_diff';
export const tolerances: Record<string, Tolerance> = {
  'out.logits': { abs: 0, precision: 'float32', why },
  'out.log_probs': { abs: 0, precision: 'float32', why },
  'out.grad_x': { abs: 0, precision: 'float32', why },
};

export async function run(ctx: CaseContext): Promise<void> {
  const file = await ctx.tensors();
  const net = networkFromSpec(ctx.spec);
  if (net.type !== 'classifier') throw new Error(`${ctx.rel}: case.json has no classifier_call`);
  try {
    loadStateDict(net.model, file.withPrefix(net.prefix), `${ctx.rel}/tensors.safetensors`);
    await compareNetworkOutputs(ctx, net, (n) => file.get(n), (n) => file.has(n), (o) => forwardTolerance(ctx.spec, o));
  } finally {
    net.model.dispose();
  }
}

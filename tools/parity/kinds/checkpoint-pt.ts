// Kind `checkpoint_pt`: read the case's real PyTorch checkpoint (model.pt) with the
// restricted unpickler, check every tensor against the `model.*` copies bit for bit,
// load it into the UNetModel of case.json and compare the forward pass with out.output.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readTorchCheckpointFile } from '@adm/core';
import { UNetModel, loadStateDict, type UNetKwargs } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { compareForward } from './unet-forward.js';


export const tolerances: Record<string, Tolerance> = {
  'weights.*': { abs: 0, why: 'the checkpoint stores the same float32 values: exact' },
  'out.output': { abs: 0, why: 'read from case.json: 4 x f64_reference max_abs_diff (of the case the weights come from)' },
};

export async function run(ctx: CaseContext): Promise<void> {
  const spec = ctx.spec;
  const file = await ctx.tensors();
  const ptPath = join(ctx.dir, spec.checkpoint_file ?? 'model.pt');
  const weights = await readTorchCheckpointFile(ptPath);
  const prefix = spec.weights_prefix ?? 'model.';
  const expected = file.withPrefix(prefix);
  const extra = [...weights.keys()].filter((k) => !expected.has(k));
  if (extra.length) ctx.check.fail(`model.pt holds tensors absent from ${prefix}*: ${extra.slice(0, 5).join(', ')}`);
  for (const [name, t] of expected) {
    const got = weights.get(name);
    if (!got) {
      ctx.check.fail(`model.pt lacks ${name}`);
      continue;
    }
    ctx.check.equal(`weights.${name}`, got.data as ArrayLike<number>, t);
    if (got.shape.join() !== t.shape.join()) ctx.check.fail(`${name}: shape [${got.shape}] != [${t.shape}]`);
  }
  const model = new UNetModel(spec.model_resolved.kwargs as UNetKwargs, { init: 'zeros' });
  try {
    loadStateDict(model, weights, ptPath);
    await compareForward(ctx, model, (n) => file.get(n), (n) => file.has(n), await outputTolerance(ctx));
  } finally {
    model.dispose();
  }
}

/**
 * The forward tolerance: this case's own f64_reference if it has one, else that of the
 * case the weights come from (weights_of_case, a sibling folder), else 3e-5 (about 4x the
 * largest f64_reference of the unet_forward cases, whose outputs are O(1)).
 */
async function outputTolerance(ctx: CaseContext): Promise<Tolerance> {
  const own = ctx.spec.f64_reference?.['out.output']?.max_abs_diff;
  if (typeof own === 'number') return { abs: 4 * own };
  const sibling = ctx.spec.weights_of_case;
  if (typeof sibling === 'string' && /^[\w.-]+$/.test(sibling)) {
    try {
      const spec = JSON.parse(await readFile(join(dirname(ctx.dir), sibling, 'case.json'), 'utf8'));
      const ref = spec.f64_reference?.['out.output']?.max_abs_diff;
      if (typeof ref === 'number') return { abs: 4 * ref };
    } catch {
      // no sibling case: fall through to the default
    }
  }
  return { abs: 3e-5 };
}

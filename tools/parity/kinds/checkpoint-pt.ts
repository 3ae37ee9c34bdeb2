// Kind `checkpoint_pt`: read the case's real PyTorch checkpoint (model.pt) with the
// restricted unpickler, check every tensor against the `<prefix>*` copies bit for bit,
// load it into the network case.json describes and compare its outputs.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readTorchCheckpointFile } from '@adm/core';
import { loadStateDict } from '@adm/unet';
import type { CaseContext, Tolerance } from '../types.js';
import { compareNetworkOutputs, networkFromSpec } from './unet-common.js';

export const tolerances: Record<string, Tolerance> = {
  'weights.*': { abs: 0, precision: 'exact', why: 'the checkpoint stores the same float32 values: exact' },
  'out.*': { abs: 0, precision: 'float32', why: "read from case.json: 4 x f64_reference max_abs_diff (this case's, else that of the case the weights come from)" },
};

export async function run(ctx: CaseContext): Promise<void> {
  const spec = ctx.spec;
  const file = await ctx.tensors();
  const ptPath = join(ctx.dir, spec.checkpoint_file ?? 'model.pt');
  const weights = await readTorchCheckpointFile(ptPath);
  const net = networkFromSpec(spec);
  try {
    const expected = file.withPrefix(net.prefix);
    const extra = [...weights.keys()].filter((k) => !expected.has(k));
    if (extra.length) ctx.check.fail(`model.pt holds tensors absent from ${net.prefix}*: ${extra.slice(0, 5).join(', ')}`);
    for (const [name, t] of expected) {
      const got = weights.get(name);
      if (!got) {
        ctx.check.fail(`model.pt lacks ${name}`);
        continue;
      }
      if (got.shape.join() !== t.shape.join()) ctx.check.fail(`${name}: shape [${got.shape}] != [${t.shape}]`);
      else ctx.check.equal(`weights.${name}`, got.data as ArrayLike<number>, t);
    }
    loadStateDict(net.model, weights, ptPath);
    const refs = await referenceSpecs(ctx);
    await compareNetworkOutputs(ctx, net, (n) => file.get(n), (n) => file.has(n), (o) => outputTolerance(refs, o));
  } finally {
    net.model.dispose();
  }
}

/** This case's case.json and that of the case the weights come from (weights_of_case, a sibling folder). */
async function referenceSpecs(ctx: CaseContext): Promise<Array<Record<string, any>>> {
  const specs = [ctx.spec];
  const sibling = ctx.spec.weights_of_case;
  if (typeof sibling === 'string' && /^[\w.-]+$/.test(sibling)) {
    try {
      specs.push(JSON.parse(await readFile(join(dirname(ctx.dir), sibling, 'case.json'), 'utf8')));
    } catch {
      // no sibling case here: only this case's notes count
    }
  }
  return specs;
}

/**
 * 4 x the f64_reference max_abs_diff of the output, from this case or the weights' case;
 * without either, 3e-5 (about 4x the largest f64_reference of the unet_forward cases, whose
 * outputs are O(1)).
 */
function outputTolerance(specs: Array<Record<string, any>>, output: string): Tolerance {
  for (const s of specs) {
    const ref = s.f64_reference?.[output]?.max_abs_diff;
    if (typeof ref === 'number') return { abs: 4 * ref, precision: 'float32' };
  }
  return { abs: 3e-5, precision: 'float32' };
}

import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nchwHostToNhwc, nhwcToNchwData, readSafetensorsFile, useBackend, writeZip } from '@adm/core';
import { loadModelFolder, type UNetModel } from '@adm/unet';
import { main } from '../main.js';

const CASE = join(__dirname, '../../../../../shared/fixtures/guided-diffusion/checkpoint_pt');
const hasFixture = existsSync(join(CASE, 'model.pt'));
let dir: string;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { code: await main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'adm-convert-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('adm convert', () => {
  it('prints its usage and the presets', async () => {
    const help = await run(['convert', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/usage: adm convert <checkpoint> <out-folder>/);
    const presets = await run(['convert', '--list-presets']);
    expect(presets.out).toMatch(/imagenet64 +unet/);
  });

  it.skipIf(!hasFixture)("turns guided-diffusion's model.pt into a folder that reproduces its forward pass", async () => {
    const out = join(dir, 'from-pt');
    // the flags as guided-diffusion's scripts take them, after "--"
    const flags = '--image_size 32 --num_channels 32 --num_res_blocks 2 --channel_mult 1,1 --learn_sigma True --class_cond False --attention_resolutions 16 --num_heads 2 --use_scale_shift_norm True --resblock_updown False';
    const r = await run(['convert', join(CASE, 'model.pt'), out, '--', ...flags.split(' ')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/458,374 parameters/);
    const { model } = await loadModelFolder(out);
    const file = await readSafetensorsFile(join(CASE, 'tensors.safetensors'));
    const x = nchwHostToNhwc(file.get('in.x'));
    const t = tf.tensor1d(Array.from(file.get('in.t').data as BigInt64Array, Number));
    const y = (model as UNetModel).apply(x, t);
    const got = await nhwcToNchwData(y);
    const want = file.get('out.output').data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    // unet_forward_a's f64_reference max_abs_diff is 8.0e-6
    expect(worst).toBeLessThan(3.2e-5);
    tf.dispose([x, t, y]);
    model.dispose();
    // an existing folder is kept unless --force
    const again = await run(['convert', join(CASE, 'model.pt'), out, '--', ...flags.split(' ')]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds a model folder/);
  });

  it.skipIf(!hasFixture)('names the parameters that do not fit when the flags are wrong', async () => {
    const r = await run(['convert', join(CASE, 'model.pt'), join(dir, 'wrong'), '--config', join(CASE, 'case.json'), '--', '--num_res_blocks', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unexpected parameters: input_blocks\.\d/);
  });

  it('needs an architecture, and refuses a checkpoint that names a forbidden global', async () => {
    const none = await run(['convert', 'a.pt', join(dir, 'x')]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^adm convert: --preset\/--config: .*--preset <name>, --config <file\.json>/);
    const one = await run(['convert', 'a.pt']);
    expect([one.code, one.err]).toEqual([2, 'adm convert: <checkpoint> <out-folder>: expected two arguments, got 1 (adm convert --help)']);
    const missing = await run(['convert', join(dir, 'nowhere.pt'), join(dir, 'x'), '--preset', 'mnist']);
    expect([missing.code, missing.err]).toEqual([1, `adm convert: <checkpoint>: ${join(dir, 'nowhere.pt')} not found`]);
    // data.pkl: GLOBAL os.system, then REDUCE — must be refused before anything runs
    const pkl = Uint8Array.from([0x80, 2, 0x63, ...new TextEncoder().encode('os\nsystem\n'), 0x29, 0x52, 0x2e]);
    const evil = join(dir, 'evil.pt');
    await writeFile(evil, writeZip([{ name: 'archive/data.pkl', data: pkl }]));
    const r = await run(['convert', evil, join(dir, 'evil'), '--preset', 'mnist']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refusing global "os\.system"/);
    expect(existsSync(join(dir, 'evil'))).toBe(false);
  });
});

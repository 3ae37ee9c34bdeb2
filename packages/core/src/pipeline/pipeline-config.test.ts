import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { parsePipelineConfig } from './pipeline-config.js';

describe('parsePipelineConfig', () => {
  it('fills defaults and normalises sampler names and single classes', () => {
    const c = parsePipelineConfig({ model: 'm', respacing: 'ddim25', sampler: 'ddim', classes: 3 });
    expect(c).toMatchObject({ model: 'm', respacing: 'ddim25', sampler: { name: 'ddim' }, classes: [3], batch_size: 16, num_samples: 16, seed: 0, clip_denoised: true, guidance: [], preview_every: 0 });
    const sr = parsePipelineConfig({ batch_size: 4, super_res: { model: 's', sampler: { name: 'ddpm' } } });
    expect(sr.num_samples).toBe(4);
    expect(sr.super_res).toMatchObject({ model: 's', sampler: { name: 'ddpm' }, guidance: [], clip_denoised: true });
  });

  it.each([
    [[], /^pipeline: expected a JSON object/],
    [{ batch_size: 0 }, /^pipeline\.batch_size: expected an integer >= 1/],
    [{ num_samples: 2.5 }, /^pipeline\.num_samples/],
    [{ seed: -1 }, /^pipeline\.seed: expected an integer >= 0/],
    [{ classes: [1, -2] }, /^pipeline\.classes\[1\]/],
    [{ classes: [] }, /^pipeline\.classes/],
    [{ sampler: 5 }, /^pipeline\.sampler/],
    [{ guidance: [{ scale: 2 }] }, /^pipeline\.guidance\[0\]: expected \{"type"/],
    [{ guidance: {} }, /^pipeline\.guidance: expected a list/],
    [{ clip_denoised: 'yes' }, /^pipeline\.clip_denoised/],
    [{ sampeler: 'ddim' }, /^pipeline\.sampeler: unknown key/],
    [{ diffusion: { timestep_respacing: '250' } }, /^pipeline\.diffusion\.timestep_respacing: set "respacing" instead/],
    [{ super_res: { batch_size: 3 } }, /^pipeline\.super_res\.batch_size: unknown key/],
    [{ model: 3 }, /^pipeline\.model: expected a string/],
  ])('rejects %j naming the field', (json, message) => {
    let err: unknown;
    try {
      parsePipelineConfig(json);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });
});

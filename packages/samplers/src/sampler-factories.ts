import { ConfigError, type SamplerFactory } from '@adm/core';
import { DdimSampler } from './ddim-sampler.js';
import { DdpmSampler } from './ddpm-sampler.js';
import { DpmSolverPP2MSampler } from './dpm-solver-pp-sampler.js';

function checkKeys(name: string, options: Record<string, unknown>, known: string[]): void {
  for (const k of Object.keys(options)) {
    if (k !== 'name' && !known.includes(k)) {
      throw new ConfigError(`sampler.${k}`, `unknown option for sampler "${name}" (known: ${known.length ? known.join(', ') : 'none'})`);
    }
  }
}

export const ddpmSamplerFactory: SamplerFactory = {
  name: 'ddpm',
  summary: 'DDPM ancestral sampling (guided-diffusion p_sample); guidance by mean shift (Algorithm 1)',
  create(options = {}) {
    checkKeys('ddpm', options, []);
    return new DdpmSampler();
  },
};

export const ddimSamplerFactory: SamplerFactory = {
  name: 'ddim',
  summary: 'DDIM with eta (default 0, deterministic); guidance on eps (Algorithm 2)',
  create(options = {}) {
    checkKeys('ddim', options, ['eta']);
    const eta = options.eta ?? 0;
    if (typeof eta !== 'number') throw new ConfigError('sampler.eta', `must be a number >= 0, got ${JSON.stringify(eta)}`);
    return new DdimSampler(eta);
  },
};

export const dpmSolverPPSamplerFactory: SamplerFactory = {
  name: 'dpm-solver++',
  summary: 'DPM-Solver++(2M), Lu et al. 2022: second-order multistep ODE solver; guidance on eps',
  create(options = {}) {
    checkKeys('dpm-solver++', options, []);
    return new DpmSolverPP2MSampler();
  },
};

/** Every sampler this package provides. */
export const SAMPLER_FACTORIES: readonly SamplerFactory[] = [ddpmSamplerFactory, ddimSamplerFactory, dpmSolverPPSamplerFactory];

import { ContainerModule } from 'inversify';
import { TOKENS, type SamplerFactory } from '@adm/core';
import { SAMPLER_FACTORIES } from './sampler-factories.js';

/**
 * Binds each sampler factory under TOKENS.SamplerRegistry (a multi-binding: the pipeline
 * collects them by name, so another module can add a sampler by binding one more).
 */
export function samplersModuleOf(factories: readonly SamplerFactory[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const f of factories) bind<SamplerFactory>(TOKENS.SamplerRegistry).toConstantValue(f);
  });
}

export const samplersModule = samplersModuleOf(SAMPLER_FACTORIES);

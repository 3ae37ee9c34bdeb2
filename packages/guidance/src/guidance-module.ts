import { ContainerModule } from 'inversify';
import { type GuidanceFactory, TOKENS } from '@adm/core';
import { GUIDANCE_FACTORIES } from './guidance-factories.js';

/** Binds each guidance factory under TOKENS.GuidanceRegistry (multi-binding, keyed by `type`). */
export function guidanceModuleOf(factories: readonly GuidanceFactory[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const f of factories) bind<GuidanceFactory>(TOKENS.GuidanceRegistry).toConstantValue(f);
  });
}

export const guidanceModule = guidanceModuleOf(GUIDANCE_FACTORIES);

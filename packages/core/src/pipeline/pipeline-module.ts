import { ContainerModule } from 'inversify';
import type { ClassifierLoader, DenoiserLoader } from '../contracts/denoiser.js';
import type { GuidanceFactory } from '../contracts/guidance.js';
import type { NoiseScheduleFactory } from '../contracts/noise-schedule.js';
import type { SamplerFactory } from '../contracts/sampler.js';
import type { RandomSource } from '../random.js';
import { TOKENS } from '../tokens.js';
import { asLoaderFn, type ClassifierLoaderFn, type DenoiserLoaderFn } from './model-loaders.js';
import { SamplingPipeline } from './sampling-pipeline.js';

/**
 * Binds TOKENS.SamplingPipeline: a SamplingPipeline made of whatever the other loaded
 * modules bound (schedules, every SamplerRegistry / GuidanceRegistry entry, loaders).
 */
export const pipelineModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.SamplingPipeline).toDynamicValue((ctx) => {
    const samplers = new Map<string, SamplerFactory>();
    for (const f of ctx.getAll<SamplerFactory>(TOKENS.SamplerRegistry, { optional: true }) ?? []) samplers.set(f.name, f);
    const guidance = new Map<string, GuidanceFactory>();
    for (const f of ctx.getAll<GuidanceFactory>(TOKENS.GuidanceRegistry, { optional: true }) ?? []) guidance.set(f.type, f);
    const den = asLoaderFn(ctx.get<DenoiserLoader | DenoiserLoaderFn>(TOKENS.DenoiserLoader, { optional: true }), 'denoiser');
    const cls = asLoaderFn(ctx.get<ClassifierLoader | ClassifierLoaderFn>(TOKENS.ClassifierLoader, { optional: true }), 'classifier');
    const randomFactory = ctx.get<(seed: number) => RandomSource>(TOKENS.RandomSourceFactory, { optional: true });
    return new SamplingPipeline({
      schedules: ctx.get<NoiseScheduleFactory>(TOKENS.NoiseScheduleFactory),
      samplers,
      guidance,
      loadDenoiser: den,
      loadClassifier: cls,
      randomSource: randomFactory,
    });
  });
});

/** A module binding model-folder loaders (TOKENS.DenoiserLoader / ClassifierLoader). */
export function modelLoadersModule(loadDenoiser?: DenoiserLoaderFn, loadClassifier?: ClassifierLoaderFn): ContainerModule {
  return new ContainerModule(({ bind }) => {
    if (loadDenoiser) bind(TOKENS.DenoiserLoader).toConstantValue(loadDenoiser);
    if (loadClassifier) bind(TOKENS.ClassifierLoader).toConstantValue(loadClassifier);
  });
}

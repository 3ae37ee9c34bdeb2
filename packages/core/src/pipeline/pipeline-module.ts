import { ContainerModule } from 'inversify';
import type { GuidanceFactory } from '../contracts/guidance.js';
import type { NoiseScheduleFactory } from '../contracts/noise-schedule.js';
import type { SamplerFactory } from '../contracts/sampler.js';
import type { RandomSource } from '../random.js';
import { TOKENS } from '../tokens.js';
import { asLoaderFn, type LoadedClassifier, type LoadedDenoiser } from './model-loaders.js';
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
    const den = asLoaderFn(ctx.get(TOKENS.DenoiserLoader, { optional: true }), 'denoiser');
    const cls = asLoaderFn(ctx.get(TOKENS.ClassifierLoader, { optional: true }), 'classifier');
    const randomFactory = ctx.get<(seed: number) => RandomSource>(TOKENS.RandomSourceFactory, { optional: true });
    return new SamplingPipeline({
      schedules: ctx.get<NoiseScheduleFactory>(TOKENS.NoiseScheduleFactory),
      samplers,
      guidance,
      loadDenoiser: den && (async (f) => { const r = await den(f); return { denoiser: r.net, flags: r.flags } as LoadedDenoiser; }),
      loadClassifier: cls && (async (f) => { const r = await cls(f); return { classifier: r.net, flags: r.flags } as LoadedClassifier; }),
      randomSource: randomFactory,
    });
  });
});

/** A module binding model-folder loaders (TOKENS.DenoiserLoader / ClassifierLoader). */
export function modelLoadersModule(loadDenoiser?: (folder: string) => Promise<LoadedDenoiser>, loadClassifier?: (folder: string) => Promise<LoadedClassifier>): ContainerModule {
  return new ContainerModule(({ bind }) => {
    if (loadDenoiser) bind(TOKENS.DenoiserLoader).toConstantValue(loadDenoiser);
    if (loadClassifier) bind(TOKENS.ClassifierLoader).toConstantValue(loadClassifier);
  });
}

import type * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  TOKENS,
  createContainer,
  parsePipelineConfig,
  pipelineModule,
  type LoadedClassifier,
  type LoadedDenoiser,
  type PipelineConfig,
  type SamplerFactory,
  type SamplingPipeline,
} from '@adm/core';
import { SAMPLER_FACTORIES, samplersModuleOf } from '@adm/samplers';
import { guidanceModule } from '@adm/guidance';
import { schedulesModule } from '@adm/schedules';
import type { CatalogModel } from './model-catalog.js';
import { loadPageClassifier, loadPageDenoiser } from './browser-model-loader.js';
import type { ImageBatch } from './image-grid.js';

/** What the page's controls ask for. */
export interface PageSettings {
  model: CatalogModel;
  /** A class index, 'random' (one per image) or 'none' (unconditional). */
  classLabel: number | 'random' | 'none';
  /** Classifier guidance scale s (0 = off; ignored without a classifier). */
  guidanceScale: number;
  /** Number of sampling steps (timestep respacing). */
  steps: number;
  /** Sampler name as @adm/samplers registers it. */
  sampler: string;
  batchSize: number;
  seed: number;
}

/** One drawn step: x_t after the step and the x_0 predicted there. */
export interface PageStep {
  done: number;
  total: number;
  xt: ImageBatch;
  x0: ImageBatch;
}

/** Samplers offered by the page, straight from @adm/samplers' registry. */
const SAMPLER_TITLES: Record<string, string> = { ddpm: 'DDPM', ddim: 'DDIM', 'dpm-solver++': 'DPM-Solver++' };
export const SAMPLER_CHOICES = SAMPLER_FACTORIES.map((f) => ({ name: f.name, title: SAMPLER_TITLES[f.name] ?? f.name, summary: f.summary }));

/**
 * guided-diffusion's "ddimN" respacing (a uniform stride) exists only when some stride
 * gives exactly N steps; space_timesteps raises otherwise. Mirrors its search.
 */
export function ddimStrideExists(numTimesteps: number, steps: number): boolean {
  for (let i = 1; i < numTimesteps; i++) if (Math.ceil(numTimesteps / i) === steps) return true;
  return false;
}

/**
 * The page's settings as the pipeline description the CLI and code accept (PipelineConfig):
 * DDIM gets the paper's "ddimN" respacing when it exists, other samplers evenly spaced N.
 */
export function pipelineConfigFor(settings: PageSettings, diffusionSteps: number): PipelineConfig {
  const { steps, sampler } = settings;
  if (!Number.isInteger(steps) || steps < 1 || steps > diffusionSteps) {
    throw new ConfigError('steps', `expected an integer in [1, ${diffusionSteps}] (the model's diffusion steps), got ${steps}`);
  }
  const respacing = sampler === 'ddim' && ddimStrideExists(diffusionSteps, steps) ? `ddim${steps}` : String(steps);
  const guided = Boolean(settings.model.classifier) && settings.guidanceScale > 0;
  const json: Record<string, unknown> = {
    respacing,
    sampler: { name: sampler },
    guidance: guided ? [{ type: 'classifier', scale: settings.guidanceScale }] : [],
    clip_denoised: true,
    batch_size: settings.batchSize,
    num_samples: settings.batchSize,
    seed: settings.seed,
    preview_every: 1,
  };
  if (settings.classLabel !== 'none') json.classes = settings.classLabel === 'random' ? 'random' : [settings.classLabel];
  return parsePipelineConfig(json, 'page');
}

/** The networks of one catalog model, built on the current tfjs backend. */
export interface LoadedPageModels {
  denoiser: LoadedDenoiser;
  classifier?: LoadedClassifier;
  /** The model's diffusion steps T (respacing picks `steps` of them). */
  diffusionSteps: number;
  dispose(): void;
}

/** Fetch a catalog model's folders (relative to `catalogUrl`) and build its networks. */
export async function loadPageModels(model: CatalogModel, catalogUrl: string, fetchImpl: typeof fetch = fetch): Promise<LoadedPageModels> {
  const unetUrl = new URL(model.denoiser, catalogUrl).href;
  const denoiser = await loadPageDenoiser(unetUrl, fetchImpl);
  let classifier: LoadedClassifier | undefined;
  try {
    classifier = model.classifier ? await loadPageClassifier(new URL(model.classifier, catalogUrl).href, fetchImpl) : undefined;
  } catch (e) {
    denoiser.denoiser.dispose?.();
    throw e;
  }
  // guided-diffusion's flag (the pipeline also accepts create_gaussian_diffusion's `steps`).
  const steps = Number(denoiser.flags.diffusion_steps ?? denoiser.flags.steps ?? 1000);
  if (!Number.isInteger(steps) || steps < 1) {
    denoiser.denoiser.dispose?.();
    classifier?.classifier.dispose?.();
    throw new ConfigError(`${unetUrl.replace(/\/?$/, '/')}config.json: diffusion_steps`, `expected a positive integer, got ${JSON.stringify(denoiser.flags.diffusion_steps)}`);
  }
  return {
    denoiser,
    classifier,
    diffusionSteps: steps,
    dispose() {
      denoiser.denoiser.dispose?.();
      classifier?.classifier.dispose?.();
    },
  };
}

/** Where the page's sampler decorator leaves the x_t each step produced (valid until the next step). */
interface SampleTap {
  last?: tf.Tensor4D;
}

/**
 * The pipeline reports x0 previews; the page also draws x_t, so each registry sampler is
 * wrapped to note the sample its step returns. The wrapped sampler computes nothing else.
 */
function tapSampler(factory: SamplerFactory, tap: SampleTap): SamplerFactory {
  return {
    name: factory.name,
    summary: factory.summary,
    create(options) {
      const inner = factory.create(options);
      return {
        name: inner.name,
        guidanceForm: inner.guidanceForm,
        begin(ctx) {
          const run = inner.begin(ctx);
          return {
            step(x, index) {
              const out = run.step(x, index);
              tap.last = out.sample;
              return out;
            },
            dispose: () => run.dispose(),
          };
        },
      };
    },
  };
}

/** The same SamplingPipeline the CLI resolves, from the packages' container modules. */
export function createPagePipeline(tap: SampleTap = {}): SamplingPipeline {
  const container = createContainer(schedulesModule, samplersModuleOf(SAMPLER_FACTORIES.map((f) => tapSampler(f, tap))), guidanceModule, pipelineModule);
  return container.get<SamplingPipeline>(TOKENS.SamplingPipeline);
}

/**
 * Run the pipeline for the page's settings, calling `onStep` after every step with x_t
 * and the predicted x0. Resolves to the final uint8 images and their class labels, or null
 * when `signal` aborted.
 */
export async function samplePage(
  models: LoadedPageModels,
  settings: PageSettings,
  signal: AbortSignal,
  onStep: (step: PageStep) => void,
): Promise<{ images: ImageBatch; labels?: Int32Array } | null> {
  const tap: SampleTap = {};
  const pipeline = createPagePipeline(tap);
  const config = pipelineConfigFor(settings, models.diffusionSteps);
  try {
    for await (const ev of pipeline.run(config, { signal, models: { model: models.denoiser, classifier: models.classifier } })) {
      if (ev.type === 'done') return { images: ev.result.images, labels: ev.result.labels };
      const xt = tap.last;
      if (!xt || !ev.preview) throw new ConfigError('page', 'the pipeline reported a step without its sample or x0 preview');
      // The generator is paused here, so this step's tensors are still alive.
      const data = (await xt.data()) as Float32Array;
      onStep({ done: ev.completed, total: ev.total, xt: { data, shape: xt.shape }, x0: ev.preview });
    }
  } catch (e) {
    if (signal.aborted) return null;
    throw e;
  }
  throw new ConfigError('page', 'the sampling run ended without images');
}

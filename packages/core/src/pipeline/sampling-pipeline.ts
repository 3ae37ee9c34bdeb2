import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend.js';
import type { Classifier, Conditioning, Denoiser } from '../contracts/denoiser.js';
import type { GuidanceFactory, GuidanceTerm } from '../contracts/guidance.js';
import type { NoiseScheduleFactory } from '../contracts/noise-schedule.js';
import type { Sampler, SamplerFactory } from '../contracts/sampler.js';
import { createGaussianDiffusion, GAUSSIAN_DIFFUSION_DEFAULTS, type GaussianDiffusionFlags } from '../diffusion/create-gaussian-diffusion.js';
import type { GaussianDiffusion } from '../diffusion/gaussian-diffusion.js';
import { AdmError, ConfigError } from '../errors.js';
import { type RandomSource, SeededRandom } from '../random.js';
import { concatImages, fromUint8Images, type ImageBatch, toUint8ImagesAsync } from './image-batch.js';
import type { LoadedClassifier, LoadedDenoiser } from '../contracts/denoiser.js';
import type { ClassifierLoaderFn, DenoiserLoaderFn } from './model-loaders.js';
import { parsePipelineConfig, type PipelineConfig, type StageConfig } from './pipeline-config.js';
import { sampleLoop } from './sampling-loop.js';

/** The concrete parts a pipeline is made of; the pipeline module resolves them from the container. */
export interface SamplingPipelineParts {
  schedules: NoiseScheduleFactory;
  samplers: ReadonlyMap<string, SamplerFactory>;
  guidance: ReadonlyMap<string, GuidanceFactory>;
  loadDenoiser?: DenoiserLoaderFn;
  loadClassifier?: ClassifierLoaderFn;
  randomSource?: (seed: number) => RandomSource;
}

export type StageName = 'base' | 'super_res';

/** Progress of a run. `preview` (x0 predicted at this step, uint8) every preview_every steps. */
export interface SamplingProgress {
  type: 'step';
  stage: StageName;
  /** 0-based batch and the number of batches. */
  batch: number;
  numBatches: number;
  /** 0-based step in this stage and the stage's number of steps. */
  step: number;
  stageSteps: number;
  /** Steps done / to do over the whole run (all batches and stages). */
  completed: number;
  total: number;
  elapsedMs: number;
  /** Estimated time left, from the mean step time so far. */
  etaMs: number;
  preview?: ImageBatch;
}

export interface SamplingResult {
  /** uint8 NHWC images of the last stage. */
  images: ImageBatch;
  /** Class labels per image (absent when the run had none). */
  labels?: Int32Array;
  /** The first stage's images when a super-resolution stage ran. */
  lowRes?: ImageBatch;
}

export type SamplingEvent = SamplingProgress | { type: 'done'; result: SamplingResult };

export interface SamplingRunOptions {
  /** Stops the run between steps; its tensors are freed and the iterator throws signal.reason. */
  signal?: AbortSignal;
  /** Models given in code (instead of, or overriding, the folders in the JSON). */
  models?: { model?: LoadedDenoiser; classifier?: LoadedClassifier; superRes?: LoadedDenoiser; superResClassifier?: LoadedClassifier };
  /** Random source instead of one seeded from the config's seed. */
  random?: RandomSource;
}

interface PreparedStage {
  name: StageName;
  field: string;
  denoiser: Denoiser;
  /** The model folder's config.json flags (guided-diffusion names). */
  flags: Record<string, unknown>;
  classifier?: Classifier;
  diffusion: GaussianDiffusion;
  sampler: Sampler;
  guidance: GuidanceTerm[];
  clipDenoised: boolean;
}

const DIFFUSION_KEYS = Object.keys(GAUSSIAN_DIFFUSION_DEFAULTS);

/**
 * The sampling pipeline: model (+ classifier) -> diffusion over a respaced schedule ->
 * sampler + guidance terms -> uint8 images, batch after batch, optionally followed by a
 * super-resolution stage. Built from parts bound in a container (pipelineModule).
 */
export class SamplingPipeline {
  constructor(readonly parts: SamplingPipelineParts) {}

  /** The samplers and guidance types this pipeline knows. */
  get samplerNames(): string[] {
    return [...this.parts.samplers.keys()];
  }
  get guidanceTypes(): string[] {
    return [...this.parts.guidance.keys()];
  }

  /** Run to completion and return the images (progress ignored). */
  async sample(config: unknown, options: SamplingRunOptions = {}): Promise<SamplingResult> {
    for await (const ev of this.run(config, options)) if (ev.type === 'done') return ev.result;
    throw new AdmError('sampling run ended without a result');
  }

  /** A run as an async iterator of progress events, ending with {type: 'done', result}. */
  async *run(configJson: unknown, options: SamplingRunOptions = {}): AsyncGenerator<SamplingEvent, void, undefined> {
    const config = isParsed(configJson) ? configJson : parsePipelineConfig(configJson);
    const signal = options.signal;
    signal?.throwIfAborted();
    if (config.backend) await useBackend(config.backend);
    const base = await this.prepareStage('base', config, 'pipeline', options.models?.model, options.models?.classifier);
    const sr = config.super_res
      ? await this.prepareStage('super_res', config.super_res, 'pipeline.super_res', options.models?.superRes, options.models?.superResClassifier)
      : undefined;
    if (sr) checkSuperRes(base, sr);

    const numClasses = base.denoiser.info.numClasses ?? base.classifier?.info.numClasses;
    const needLabels = base.denoiser.info.numClasses !== undefined || base.classifier !== undefined || (sr?.denoiser.info.numClasses ?? undefined) !== undefined;
    if (config.classes !== undefined && numClasses === undefined) {
      throw new ConfigError('pipeline.classes', 'the model is unconditional and there is no classifier: class labels mean nothing here');
    }
    if (Array.isArray(config.classes)) {
      config.classes.forEach((k, i) => {
        if (k >= numClasses!) throw new ConfigError(`pipeline.classes[${i}]`, `class ${k} is out of range: the model has ${numClasses} classes (0..${numClasses! - 1})`);
      });
    }
    const random = options.random ?? (this.parts.randomSource ?? ((s) => new SeededRandom(s)))(config.seed);
    const numBatches = Math.ceil(config.num_samples / config.batch_size);
    const total = numBatches * (base.diffusion.numTimesteps + (sr?.diffusion.numTimesteps ?? 0));
    const t0 = performance.now();
    let completed = 0;
    const images: ImageBatch[] = [];
    const lowRes: ImageBatch[] = [];
    const labels: number[] = [];

    for (let b = 0; b < numBatches; b++) {
      const n = Math.min(config.batch_size, config.num_samples - b * config.batch_size);
      let batchLabels: Int32Array | undefined;
      if (needLabels && numClasses !== undefined) {
        batchLabels = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          batchLabels[i] = Array.isArray(config.classes) ? config.classes[(b * config.batch_size + i) % config.classes.length] : random.int(numClasses);
        }
        labels.push(...batchLabels);
      }
      let stageImages: ImageBatch | undefined;
      for (const stage of sr ? [base, sr] : [base]) {
        const y = batchLabels ? tf.tensor1d(batchLabels, 'int32') : undefined;
        const low = stage.name === 'super_res' ? fromUint8Images(stageImages!) : undefined;
        const cond: Conditioning = { y: stage.denoiser.info.numClasses !== undefined ? y : undefined, lowRes: low };
        const size = stage.denoiser.info.imageSize;
        try {
          const loop = sampleLoop({
            diffusion: stage.diffusion,
            denoiser: stage.denoiser,
            sampler: stage.sampler,
            guidance: stage.guidance,
            cond,
            labels: y,
            random,
            clipDenoised: stage.clipDenoised,
            xT: [n, size, size, stage.denoiser.info.inChannels],
          });
          for (const s of loop) {
            completed++;
            // On asynchronous backends (WebGPU, WebGL) the step's kernels are only queued when
            // the sampler returns: a one-value read completes after all of them, so elapsed
            // and ETA measure the work done, not the work submitted.
            await settled(s.sample);
            const elapsedMs = performance.now() - t0;
            const k = config.preview_every;
            const preview = k > 0 && ((s.step + 1) % k === 0 || s.step === s.numSteps - 1) ? await toUint8ImagesAsync(s.predXstart) : undefined;
            if (s.step === s.numSteps - 1) stageImages = await toUint8ImagesAsync(s.sample);
            yield {
              type: 'step',
              stage: stage.name,
              batch: b,
              numBatches,
              step: s.step,
              stageSteps: s.numSteps,
              completed,
              total,
              elapsedMs,
              etaMs: (elapsedMs / completed) * (total - completed),
              preview,
            };
            // Let timers and abort handlers run between steps.
            await new Promise((r) => setTimeout(r, 0));
            signal?.throwIfAborted();
          }
        } finally {
          y?.dispose();
          low?.dispose();
        }
        if (stage.name === 'base' && sr) lowRes.push(stageImages!);
      }
      images.push(stageImages!);
    }
    yield {
      type: 'done',
      result: {
        images: concatImages(images),
        labels: labels.length ? Int32Array.from(labels) : undefined,
        lowRes: lowRes.length ? concatImages(lowRes) : undefined,
      },
    };
  }

  private async prepareStage(name: StageName, stage: StageConfig, field: string, givenModel?: LoadedDenoiser, givenClassifier?: LoadedClassifier): Promise<PreparedStage> {
    const loaded = givenModel ?? (await this.loadDenoiser(stage.model, `${field}.model`));
    const denoiser = loaded.denoiser;
    let classifier: Classifier | undefined;
    if (givenClassifier) classifier = givenClassifier.classifier;
    else if (stage.classifier !== undefined) classifier = (await this.loadClassifier(stage.classifier, `${field}.classifier`)).classifier;
    if (classifier) checkClassifierMatches(classifier, denoiser, `${field}.classifier`);

    const diffusion = this.createDiffusion(loaded, stage, field);
    const samplerSpec = stage.sampler ?? { name: (stage.respacing ?? '').startsWith('ddim') ? 'ddim' : 'ddpm' };
    const factory = this.parts.samplers.get(samplerSpec.name);
    if (!factory) throw new ConfigError(`${field}.sampler`, `unknown sampler "${samplerSpec.name}" (known: ${this.samplerNames.join(', ') || 'none: load a samplers module'})`);
    const { name: _n, ...samplerOptions } = samplerSpec;
    const sampler = factory.create(samplerOptions);

    const guidance: GuidanceTerm[] = [];
    for (const [i, spec] of stage.guidance.entries()) {
      const gf = this.parts.guidance.get(spec.type);
      if (!gf) throw new ConfigError(`${field}.guidance[${i}].type`, `unknown guidance "${spec.type}" (known: ${this.guidanceTypes.join(', ') || 'none: load a guidance module'})`);
      guidance.push(
        await gf.create(spec, { denoiser, classifier, loadDenoiser: async (f) => (await this.loadDenoiser(f, `${field}.guidance[${i}].model`)).denoiser }, `${field}.guidance[${i}]`),
      );
    }
    return { name, field, denoiser, flags: loaded.flags, classifier, diffusion, sampler, guidance, clipDenoised: stage.clip_denoised };
  }

  private createDiffusion(loaded: LoadedDenoiser, stage: StageConfig, field: string): GaussianDiffusion {
    const f = loaded.flags;
    const fromModel: Record<string, unknown> = {};
    for (const k of DIFFUSION_KEYS) if (f[k] !== undefined) fromModel[k] = f[k];
    // guided-diffusion's flag is diffusion_steps; create_gaussian_diffusion's argument is steps.
    if (f.diffusion_steps !== undefined && fromModel.steps === undefined) fromModel.steps = f.diffusion_steps;
    if (fromModel.learn_sigma === undefined) fromModel.learn_sigma = loaded.denoiser.info.learnSigma;
    for (const k of Object.keys(stage.diffusion)) {
      if (!DIFFUSION_KEYS.includes(k)) throw new ConfigError(`${field}.diffusion.${k}`, `not a create_gaussian_diffusion argument (known: ${DIFFUSION_KEYS.join(', ')})`);
    }
    const flags = { ...fromModel, ...stage.diffusion } as GaussianDiffusionFlags;
    if (stage.respacing !== undefined) flags.timestep_respacing = stage.respacing;
    if (flags.learn_sigma !== loaded.denoiser.info.learnSigma) {
      throw new ConfigError(`${field}.diffusion.learn_sigma`, `is ${flags.learn_sigma} but the model ${loaded.denoiser.info.learnSigma ? 'outputs' : 'does not output'} learned variances`);
    }
    try {
      return createGaussianDiffusion(flags, this.parts.schedules);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${field}.${e.field === 'timestep_respacing' ? 'respacing' : `diffusion.${e.field}`}`, e.detail);
      if (e instanceof Error && !(e instanceof AdmError)) throw new ConfigError(`${field}.respacing`, e.message);
      throw e;
    }
  }

  private async loadDenoiser(folder: string | undefined, field: string): Promise<LoadedDenoiser> {
    if (folder === undefined) throw new ConfigError(field, 'no model folder given (and no model passed in code)');
    if (!this.parts.loadDenoiser) throw new ConfigError(field, 'no model loader is bound (load @adm/unet\'s unetModule)');
    return this.parts.loadDenoiser(folder);
  }

  private async loadClassifier(folder: string, field: string): Promise<LoadedClassifier> {
    if (!this.parts.loadClassifier) throw new ConfigError(field, 'no classifier loader is bound (load @adm/unet\'s unetModule)');
    return this.parts.loadClassifier(folder);
  }
}

function isParsed(c: unknown): c is PipelineConfig {
  return typeof c === 'object' && c !== null && Array.isArray((c as PipelineConfig).guidance) && typeof (c as PipelineConfig).clip_denoised === 'boolean' && typeof (c as PipelineConfig).preview_every === 'number';
}

/** A classifier can guide a denoiser when image size, channels and class count agree. */
export function checkClassifierMatches(classifier: Classifier, denoiser: Denoiser, field = 'classifier'): void {
  const c = classifier.info;
  const d = denoiser.info;
  if (c.imageSize !== d.imageSize) throw new ConfigError(field, `classifier image size ${c.imageSize} does not match the model's ${d.imageSize}`);
  if (c.inChannels !== d.inChannels) throw new ConfigError(field, `classifier takes ${c.inChannels} channels, the model makes ${d.inChannels}`);
  if (d.numClasses !== undefined && d.numClasses !== c.numClasses) {
    throw new ConfigError(field, `classifier has ${c.numClasses} classes, the class-conditional model ${d.numClasses}`);
  }
}

function checkSuperRes(base: PreparedStage, sr: PreparedStage): void {
  const b = base.denoiser.info;
  const s = sr.denoiser.info;
  if (s.imageSize <= b.imageSize) throw new ConfigError('pipeline.super_res.model', `super-resolution image size ${s.imageSize} is not larger than the base model's ${b.imageSize}`);
  if (s.inChannels !== b.inChannels) throw new ConfigError('pipeline.super_res.model', `takes ${s.inChannels} channels, the base model makes ${b.inChannels}`);
  const small = sr.flags.small_size;
  if (typeof small === 'number' && small !== b.imageSize) {
    throw new ConfigError('pipeline.super_res.model', `upsamples from ${small}x${small} (small_size) but the base model makes ${b.imageSize}x${b.imageSize} images`);
  }
  if (s.numClasses !== undefined && b.numClasses !== undefined && s.numClasses !== b.numClasses) {
    throw new ConfigError('pipeline.super_res.model', `has ${s.numClasses} classes, the base model ${b.numClasses}`);
  }
}

/** Resolves once every kernel queued before `t` was produced has run (reads one value). */
async function settled(t: tf.Tensor): Promise<void> {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, 1));
  try {
    await one.data();
  } finally {
    one.dispose();
  }
}

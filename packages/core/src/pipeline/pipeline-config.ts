import { ConfigError } from '../errors.js';

/** A sampler by name plus its options, e.g. {"name": "ddim", "eta": 0}. */
export interface SamplerSpec {
  name: string;
  [option: string]: unknown;
}

/** A guidance term by type plus its options, e.g. {"type": "classifier", "scale": 2}. */
export interface GuidanceSpec {
  type: string;
  [option: string]: unknown;
}

/** One sampling stage: a model, its diffusion (schedule + respacing), a sampler and guidance. */
export interface StageConfig {
  /** Model folder (config.json + model.safetensors); optional when models are given in code. */
  model?: string;
  /** Noisy classifier folder, for classifier guidance. */
  classifier?: string;
  /** timestep_respacing ("ddim25", "250", "10,15,20"); undefined = the model's own, else all steps. */
  respacing?: string;
  /** Other create_gaussian_diffusion arguments overriding the model's config (noise_schedule, steps...). */
  diffusion: Record<string, unknown>;
  /** undefined = DDIM for "ddimN" respacings, else DDPM (the paper's practice). */
  sampler?: SamplerSpec;
  guidance: GuidanceSpec[];
  clip_denoised: boolean;
}

/**
 * A sampling run described as JSON: the same object the CLI (--config), the web app and
 * code accept. `super_res` adds the upsampling stage of Section 5.2, conditioned on the
 * first stage's images.
 */
export interface PipelineConfig extends StageConfig {
  batch_size: number;
  num_samples: number;
  seed: number;
  /** "random", or labels repeated cyclically over the samples; undefined = random when the run needs labels. */
  classes?: 'random' | number[];
  /** tfjs backend preference ("cpu", "wasm", "auto", ...); undefined = leave the current one. */
  backend?: string;
  /** Yield x0 previews every k steps (0 = none). */
  preview_every: number;
  super_res?: StageConfig;
}

const STAGE_KEYS = ['model', 'classifier', 'respacing', 'diffusion', 'sampler', 'guidance', 'clip_denoised'];
const TOP_KEYS = [...STAGE_KEYS, 'batch_size', 'num_samples', 'seed', 'classes', 'backend', 'preview_every', 'super_res'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(o: Record<string, unknown>, key: string, field: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${field}.${key}`, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function positiveInt(o: Record<string, unknown>, key: string, field: string, dflt: number, min = 1): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ConfigError(`${field}.${key}`, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function parseStage(o: Record<string, unknown>, field: string, known: string[]): StageConfig {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ConfigError(`${field}.${k}`, `unknown key (known: ${known.join(', ')})`);
  const diffusion = o.diffusion ?? {};
  if (!isObject(diffusion)) throw new ConfigError(`${field}.diffusion`, 'expected an object of create_gaussian_diffusion arguments');
  if ('timestep_respacing' in diffusion) throw new ConfigError(`${field}.diffusion.timestep_respacing`, `set "respacing" instead`);
  let sampler: SamplerSpec | undefined;
  if (typeof o.sampler === 'string') sampler = { name: o.sampler };
  else if (isObject(o.sampler) && typeof o.sampler.name === 'string') sampler = o.sampler as SamplerSpec;
  else if (o.sampler !== undefined) throw new ConfigError(`${field}.sampler`, `expected a name or {"name": ..., options}, got ${JSON.stringify(o.sampler)}`);
  const g = o.guidance ?? [];
  if (!Array.isArray(g)) throw new ConfigError(`${field}.guidance`, 'expected a list of {"type": ..., options}');
  const guidance = g.map((t, i) => {
    if (!isObject(t) || typeof t.type !== 'string') throw new ConfigError(`${field}.guidance[${i}]`, `expected {"type": ..., options}, got ${JSON.stringify(t)}`);
    return t as GuidanceSpec;
  });
  const clip = o.clip_denoised ?? true;
  if (typeof clip !== 'boolean') throw new ConfigError(`${field}.clip_denoised`, `expected true or false, got ${JSON.stringify(clip)}`);
  return {
    model: optString(o, 'model', field),
    classifier: optString(o, 'classifier', field),
    respacing: optString(o, 'respacing', field),
    diffusion,
    sampler,
    guidance,
    clip_denoised: clip,
  };
}

/** Validate a pipeline description; every error is a ConfigError naming the field. */
export function parsePipelineConfig(json: unknown, field = 'pipeline'): PipelineConfig {
  if (!isObject(json)) throw new ConfigError(field, `expected a JSON object, got ${JSON.stringify(json)}`);
  const stage = parseStage(json, field, TOP_KEYS);
  const batchSize = positiveInt(json, 'batch_size', field, 16);
  const numSamples = positiveInt(json, 'num_samples', field, batchSize);
  const seed = positiveInt(json, 'seed', field, 0, 0);
  let classes: PipelineConfig['classes'];
  const c = json.classes;
  if (c === undefined || c === 'random') classes = c;
  else if (typeof c === 'number') classes = [c];
  else if (Array.isArray(c) && c.length > 0) classes = c as number[];
  else throw new ConfigError(`${field}.classes`, `expected "random", a class index or a non-empty list of them, got ${JSON.stringify(c)}`);
  if (Array.isArray(classes)) {
    classes.forEach((k, i) => {
      if (!Number.isInteger(k) || k < 0) throw new ConfigError(`${field}.classes[${i}]`, `expected a class index >= 0, got ${JSON.stringify(k)}`);
    });
  }
  const previewEvery = positiveInt(json, 'preview_every', field, 0, 0);
  let superRes: StageConfig | undefined;
  if (json.super_res !== undefined) {
    if (!isObject(json.super_res)) throw new ConfigError(`${field}.super_res`, 'expected an object describing the upsampling stage');
    superRes = parseStage(json.super_res, `${field}.super_res`, STAGE_KEYS);
  }
  return {
    ...stage,
    batch_size: batchSize,
    num_samples: numSamples,
    seed,
    classes,
    backend: optString(json, 'backend', field),
    preview_every: previewEvery,
    super_res: superRes,
  };
}

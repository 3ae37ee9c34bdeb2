// `adm sample`'s checks before any backend starts or any weights are read: the pipeline JSON
// built from the flags, each stage's sampler and options, and what the model folders'
// config.json decide (the respacing against the model's diffusion steps, class labels
// against its classes). An error names the flag that set the field, else the --config file.
import { ConfigError, GAUSSIAN_DIFFUSION_DEFAULTS, parsePipelineConfig, type PipelineConfig, type StageConfig } from '@adm/core';
import { SAMPLER_FACTORIES } from '@adm/samplers';
import { spaceTimesteps } from '@adm/schedules';
import { readModelConfig } from '@adm/unet';

/** The flag that sets each top-level pipeline field. */
const FLAG_OF: Record<string, string> = {
  model: 'model',
  classifier: 'classifier',
  respacing: 'steps',
  sampler: 'sampler',
  guidance: 'scale',
  batch_size: 'batch',
  num_samples: 'num-samples',
  seed: 'seed',
  classes: 'class',
};

/** The flags given on the command line (parseFlags values). */
export type GivenFlags = Readonly<Record<string, string | boolean | undefined>>;

/**
 * A pipeline field's ConfigError renamed after the flag that set the field ("--steps"), or
 * after the --config file's field when no flag did; other errors (a model folder's) unchanged.
 */
export function renamePipelineError(e: unknown, given: GivenFlags, configFile?: string): unknown {
  if (!(e instanceof ConfigError) || !/^pipeline\b/.test(e.field)) return e;
  const key = /^pipeline\.([a-z_]+)/.exec(e.field)?.[1];
  let flag = key !== undefined ? FLAG_OF[key] : undefined;
  if (flag === 'sampler' && /\.eta$/.test(e.field) && given.eta !== undefined) flag = 'eta';
  if (flag !== undefined && given[flag] !== undefined) return new ConfigError(`--${flag}`, e.detail);
  return configFile ? new ConfigError(`${configFile}: ${e.field}`, e.detail) : e;
}

/** The stage's sampler built once (samplers hold no tensors) to check its name and options. */
function checkSampler(stage: StageConfig, field: string): void {
  const name = stage.sampler?.name ?? ((stage.respacing ?? '').startsWith('ddim') ? 'ddim' : 'ddpm');
  const factory = SAMPLER_FACTORIES.find((f) => f.name === name);
  if (!factory) throw new ConfigError(`${field}.sampler`, `unknown sampler "${name}" (known: ${SAMPLER_FACTORIES.map((f) => f.name).join(', ')})`);
  const { name: _name, ...options } = stage.sampler ?? { name };
  try {
    factory.create(options);
  } catch (e) {
    // The samplers name their options "sampler.<option>".
    throw e instanceof ConfigError ? new ConfigError(`${field}.${e.field}`, e.detail) : e;
  }
}

/** Check one stage against its model folder's config.json; returns the classes the stage knows. */
async function checkStage(stage: StageConfig, field: string): Promise<number | undefined> {
  checkSampler(stage, field);
  if (stage.model === undefined) return undefined;
  const { flags } = await readModelConfig(stage.model, ['unet', 'superres']);
  const steps = stage.diffusion.steps ?? flags.diffusion_steps ?? GAUSSIAN_DIFFUSION_DEFAULTS.steps;
  const respacing = stage.respacing ?? flags.timestep_respacing;
  if (typeof respacing === 'string' && typeof steps === 'number' && Number.isInteger(steps) && steps > 0) {
    try {
      spaceTimesteps(steps, respacing);
    } catch (e) {
      throw e instanceof ConfigError ? new ConfigError(`${field}.respacing`, e.detail) : e;
    }
  }
  // As the pipeline: the model's classes when class-conditional, else the classifier's.
  if (flags.class_cond === true && typeof flags.num_classes === 'number') return flags.num_classes;
  if (stage.classifier === undefined) return undefined;
  const classifier = await readModelConfig(stage.classifier, ['classifier']);
  return typeof classifier.flags.num_classes === 'number' ? classifier.flags.num_classes : undefined;
}

/** The pipeline JSON built from the flags, validated; errors name the flag (or the --config file). */
export function parseSamplePipeline(json: Record<string, unknown>, given: GivenFlags, configFile?: string): PipelineConfig {
  try {
    return parsePipelineConfig(json);
  } catch (e) {
    throw renamePipelineError(e, given, configFile);
  }
}

/**
 * What the pipeline would refuse once its models load, checked from their config.json alone:
 * samplers and their options, respacings, class labels.
 */
export async function checkSamplePipeline(config: PipelineConfig, given: GivenFlags, configFile?: string): Promise<void> {
  try {
    const numClasses = await checkStage(config, 'pipeline');
    if (config.super_res) await checkStage(config.super_res, 'pipeline.super_res');
    if (Array.isArray(config.classes) && numClasses !== undefined) {
      config.classes.forEach((k, i) => {
        if (k >= numClasses) throw new ConfigError(`pipeline.classes[${i}]`, `class ${k} is out of range: the model has ${numClasses} classes (0..${numClasses - 1})`);
      });
    }
  } catch (e) {
    throw renamePipelineError(e, given, configFile);
  }
}

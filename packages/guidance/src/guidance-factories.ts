import { ConfigError, type GuidanceFactory } from '@adm/core';
import { ClassifierFreeGuidance } from './classifier-free-guidance.js';
import { ClassifierGuidance } from './classifier-guidance.js';
import { parseGuidanceScale } from './guidance-scale.js';

function checkKeys(field: string, options: Record<string, unknown>, known: string[]): void {
  for (const k of Object.keys(options)) {
    if (k !== 'type' && !known.includes(k)) throw new ConfigError(`${field}.${k}`, `unknown option (known: type, ${known.join(', ')})`);
  }
}

export const classifierGuidanceFactory: GuidanceFactory = {
  type: 'classifier',
  summary: 'classifier guidance (Dhariwal & Nichol 2021, Algorithms 1 and 2): {"type": "classifier", "scale": s}',
  create(options, deps, field) {
    checkKeys(field, options, ['scale']);
    if (!deps.classifier) throw new ConfigError(field, 'classifier guidance needs a classifier: set the pipeline\'s "classifier" folder');
    return new ClassifierGuidance({ scale: parseGuidanceScale(options.scale ?? 1, `${field}.scale`), classifier: deps.classifier });
  },
};

export const classifierFreeGuidanceFactory: GuidanceFactory = {
  type: 'classifier-free',
  summary: 'classifier-free guidance (Ho & Salimans 2021): {"type": "classifier-free", "scale": w, "null_label": k | "model": folder}',
  async create(options, deps, field) {
    checkKeys(field, options, ['scale', 'null_label', 'model']);
    const nullLabel = options.null_label;
    if (nullLabel !== undefined && !Number.isInteger(nullLabel)) throw new ConfigError(`${field}.null_label`, `must be an integer class index, got ${JSON.stringify(nullLabel)}`);
    let unconditional;
    if (options.model !== undefined) {
      if (typeof options.model !== 'string') throw new ConfigError(`${field}.model`, 'must be a model folder path');
      if (!deps.loadDenoiser) throw new ConfigError(`${field}.model`, 'this pipeline cannot load extra models');
      unconditional = await deps.loadDenoiser(options.model);
    }
    if (nullLabel === undefined && !unconditional) {
      throw new ConfigError(field, 'classifier-free guidance needs "null_label" (a model trained with label dropout) or "model" (an unconditional model folder)');
    }
    return new ClassifierFreeGuidance({ scale: parseGuidanceScale(options.scale ?? 1, `${field}.scale`), nullLabel: nullLabel as number | undefined, unconditional });
  },
};

export const GUIDANCE_FACTORIES: readonly GuidanceFactory[] = [classifierGuidanceFactory, classifierFreeGuidanceFactory];

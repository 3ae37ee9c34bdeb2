import * as tf from '@tensorflow/tfjs';
import { ConfigError, useBackend } from '@adm/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkModelConfig, createFromCheckedConfig, type CheckedModelConfig } from './create-model.js';
import { EncoderUNetModel } from './encoder-unet-model.js';
import { FLAG_SPECS } from './model-flags.js';
import { parseModelConfig } from './model-folder.js';
import { MODEL_LIMITS } from './parameter-plan.js';
import { SuperResModel } from './superres-model.js';
import { MNIST_CLASSIFIER_CONFIG, MNIST_UNET_CONFIG } from './test-helpers.js';
import type { UNetModel } from './unet-model.js';

// Property: any config object, and any mutation of the bundled MNIST configs, gives either a
// network that builds (and runs, when tiny) with exactly the planned state_dict, or a
// ConfigError naming the file; never another exception, a hang or a large allocation.
// Default 150 runs per property; ADM_FUZZ_RUNS=5000 npx vitest run packages/unet/src/model-config-fuzz.test.ts
// runs a longer campaign.
const RUNS = Number(process.env.ADM_FUZZ_RUNS ?? 150);
const FILE = 'models/fuzz/config.json';
/** Networks at most this large are built (parameters) and run once (one image's largest activation). */
const BUILD_PARAMETERS = 3_000_000;
const RUN_ACTIVATION = 2 ** 17;
// A forward pass costs about 1 s on the cpu backend: only a few of the built networks run.
const FORWARD_BUDGET = Math.ceil(RUNS / 30);

const deep = JSON.parse(`${'['.repeat(10_000)}1${']'.repeat(10_000)}`) as unknown;

const number = fc.oneof(
  fc.integer({ min: -4, max: 70 }),
  fc.constantFrom(0, -1, 1, 2, 3, 7, 14, 28, 32, 48, 64, 96, 1000, 4096, 8192, 2 ** 31, 2 ** 31 - 1, 2 ** 53, 1e9, 1e308, 0.5, 1.5, 1e-300, Number.NaN, Infinity, -Infinity, -0),
  fc.double(),
);
const text = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom('', '1,2,2', '1,2', '1', '0.5,1', '14,7', '7', '28', 'ddim25', '250', '10,15,20', '1e3', '0x10', 'True', 'no', 'linear', 'cosine', 'attention', 'adaptive', 'spatial_v2', 'classifier', 'unet', 'superres', ' 32 ', '-1', '1,,2', '1, 2, 4, 8', '__proto__'),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  number,
  text,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(number, text), { maxLength: 6 }),
  fc.constant(deep),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
  fc.constant(JSON.parse('{"__proto__": {"image_size": 1000000000}}') as unknown),
);
const key = fc.oneof(
  fc.constantFrom(...FLAG_SPECS.keys()),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'),
  fc.string({ maxLength: 8 }),
);

/** An object with these own properties, as JSON.parse makes them (an own "__proto__" included). */
function objectOf(entries: [string, unknown][], base: object = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of [...Object.entries(base), ...entries]) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

const randomConfig = fc.array(fc.tuple(key, value), { maxLength: 14 }).map((entries) => objectOf(entries));

type Mutation = { op: 'set'; key: string; value: unknown } | { op: 'delete'; key: string } | { op: 'scale'; key: string; by: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...Object.keys(MNIST_UNET_CONFIG), ...Object.keys(MNIST_CLASSIFIER_CONFIG)) }),
  fc.record({ op: fc.constant('scale' as const), key: fc.constantFrom(...FLAG_SPECS.keys()), by: fc.constantFrom(0, -1, 0.5, 1.5, 2, 3, 10, 1000, 1e6, 1e12) }),
);
const mutatedConfig = fc.tuple(fc.constantFrom<Record<string, unknown>>(MNIST_UNET_CONFIG, MNIST_CLASSIFIER_CONFIG), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([base, ops]) => {
  const entries = new Map<string, unknown>(Object.entries(base));
  for (const m of ops) {
    if (m.op === 'delete') entries.delete(m.key);
    else if (m.op === 'set') entries.set(m.key, m.value);
    else if (typeof entries.get(m.key) === 'number') entries.set(m.key, (entries.get(m.key) as number) * m.by);
  }
  return objectOf([...entries]);
});

/** Run a built network once on zeros: it must accept its own image size and give the declared output. */
function runOnce(checked: CheckedModelConfig, model: ReturnType<typeof createFromCheckedConfig>): void {
  tf.tidy(() => {
    const kw = checked.kwargs;
    const x = tf.zeros([1, kw.image_size, kw.image_size, kw.in_channels]) as tf.Tensor4D;
    const t = tf.tensor1d([0]);
    if (model instanceof EncoderUNetModel) {
      expect(model.apply(x, t).shape).toEqual([1, kw.out_channels]);
      return;
    }
    const cond = {
      ...(model.info.numClasses !== undefined ? { y: tf.tensor1d([0], 'int32') } : {}),
      ...(model instanceof SuperResModel ? { lowRes: tf.zeros([1, 2, 2, kw.in_channels]) as tf.Tensor4D } : {}),
    };
    expect((model as UNetModel).apply(x, t, cond).shape).toEqual([1, kw.image_size, kw.image_size, kw.out_channels]);
  });
}

const outcomes = { refused: 0, large: 0, built: 0, ran: 0 };

/** The property for one config given as an object and, when it has a JSON form, as config.json text. */
function checkOne(config: Record<string, unknown>): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(config);
  } catch {
    json = undefined; // 10,000 nested arrays: JSON.stringify itself overflows (the text path is in model-config.test.ts)
  }
  const attempts: (() => CheckedModelConfig)[] = [() => checkModelConfig(config, FILE), ...(json !== undefined ? [() => parseModelConfig(json, FILE)] : [])];
  for (const attempt of attempts) {
    const before = tf.memory().numTensors;
    let checked: CheckedModelConfig;
    try {
      checked = attempt();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message.startsWith(`${FILE}`)).toBe(true);
      expect((e as Error).message.length).toBeLessThan(600);
      expect(tf.memory().numTensors).toBe(before);
      outcomes.refused++;
      continue;
    }
    expect(checked.plan.total).toBeLessThanOrEqual(MODEL_LIMITS.parameters);
    expect(checked.plan.maxActivation).toBeLessThanOrEqual(MODEL_LIMITS.activationElements);
    if (checked.plan.total > BUILD_PARAMETERS) {
      outcomes.large++;
      continue;
    }
    const model = createFromCheckedConfig(checked, { init: 'zeros' });
    try {
      expect([...model.parameterEntries()].map(([k, e]) => [k, e.torchShape])).toEqual([...checked.plan.shapes]);
      outcomes.built++;
      if (outcomes.ran < FORWARD_BUDGET && checked.plan.maxActivation <= RUN_ACTIVATION && checked.plan.maxAttention <= RUN_ACTIVATION) {
        runOnce(checked, model);
        outcomes.ran++;
      }
    } finally {
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  }
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('model config fuzzing (fast-check)', () => {
  it(`random config objects: a network or a ConfigError naming the file (${RUNS} runs)`, () => {
    fc.assert(fc.property(randomConfig, checkOne), { numRuns: RUNS });
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it(`mutations of the bundled MNIST configs: a network or a ConfigError naming the file (${RUNS} runs)`, () => {
    const before = { ...outcomes };
    fc.assert(fc.property(mutatedConfig, checkOne), { numRuns: RUNS });
    console.info(`[config fuzz] outcomes over both properties: ${JSON.stringify(outcomes)}`);
    // Mutations keep enough of a working config that some still build.
    expect(outcomes.built).toBeGreaterThan(before.built);
  });
});

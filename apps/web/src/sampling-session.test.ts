import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { serializeSafetensors, useBackend } from '@adm/core';
import { createClassifier, createModel, resolvedFlags, stateDict, type ModelFlags } from '@adm/unet';
import { createPagePipeline, ddimStrideExists, loadPageModels, pipelineConfigFor, samplePage, type PageSettings, type PageStep } from './sampling-session.js';
import { toByte } from './image-grid.js';
import type { CatalogModel } from './model-catalog.js';

// The page's wiring, in Node on the cpu backend: settings -> pipeline JSON, model folders
// fetched as bytes -> networks, the pipeline run -> per-step x_t / x0 and final images.

// @adm/unet model folders: guided-diffusion flags (+ in_channels, num_classes) in config.json.
const UNET: ModelFlags = { image_size: 8, in_channels: 1, num_channels: 32, num_res_blocks: 1, attention_resolutions: '', channel_mult: '1', class_cond: true, num_classes: 3, learn_sigma: true, diffusion_steps: 100 };
const CLASSIFIER: ModelFlags = { image_size: 8, in_channels: 1, classifier_width: 32, classifier_depth: 1, classifier_attention_resolutions: '', channel_mult: '1', num_classes: 3, num_head_channels: 32, classifier_pool: 'adaptive' };

const model: CatalogModel = { id: 't', title: 'test', denoiser: 'unet/', classifier: 'clf/', labels: ['a', 'b', 'c'], randomWeights: true };
const files = new Map<string, BodyInit>();

function settings(over: Partial<PageSettings> = {}): PageSettings {
  return { model, classLabel: 1, guidanceScale: 2, steps: 3, sampler: 'ddpm', batchSize: 2, seed: 7, ...over };
}

const fakeFetch = (async (url: string) => {
  const body = files.get(url);
  return body === undefined ? new Response('missing', { status: 404 }) : new Response(body);
}) as typeof fetch;

beforeAll(async () => {
  await useBackend(process.env.ADM_TEST_BACKEND ?? 'wasm');
  const unet = createModel(UNET, { init: 'random', seed: 3 });
  const clf = createClassifier(CLASSIFIER, { init: 'random', seed: 4 });
  // Random init zeroes the output convolutions; give them values so eps and logits vary.
  for (const net of [unet, clf]) {
    for (const [name, e] of net.parameterEntries()) {
      if (name.startsWith('out.')) e.variable.assign(tf.randomNormal(e.variable.shape, 0, 0.1, 'float32', 5));
    }
  }
  files.set('http://x/m/unet/config.json', JSON.stringify(resolvedFlags('unet', UNET)));
  files.set('http://x/m/unet/model.safetensors', new Blob([serializeSafetensors(stateDict(unet)) as Uint8Array<ArrayBuffer>]));
  files.set('http://x/m/clf/config.json', JSON.stringify(resolvedFlags('classifier', CLASSIFIER)));
  files.set('http://x/m/clf/model.safetensors', new Blob([serializeSafetensors(stateDict(clf)) as Uint8Array<ArrayBuffer>]));
  unet.dispose();
  clf.dispose();
});

describe('pipelineConfigFor', () => {
  it('uses ddimN for DDIM when a uniform stride gives N steps, else even spacing', () => {
    expect(pipelineConfigFor(settings({ sampler: 'ddim', steps: 25 }), 1000).respacing).toBe('ddim25');
    expect(pipelineConfigFor(settings({ sampler: 'ddim', steps: 999 }), 1000).respacing).toBe('999');
    expect(pipelineConfigFor(settings({ sampler: 'ddpm', steps: 25 }), 1000).respacing).toBe('25');
  });

  it('matches guided-diffusion space_timesteps: some i in [1, T) with len(range(0, T, i)) == N', () => {
    const pyLike = (T: number, n: number) => {
      for (let i = 1; i < T; i++) {
        let count = 0;
        for (let v = 0; v < T; v += i) count++;
        if (count === n) return true;
      }
      return false;
    };
    for (const [T, n] of [[1000, 25], [1000, 3], [1000, 999], [1000, 1], [100, 7], [100, 45], [4000, 250]]) {
      expect(ddimStrideExists(T, n), `T=${T} N=${n}`).toBe(pyLike(T, n));
    }
  });

  it('adds classifier guidance only with a classifier and a positive scale, and maps the class choice', () => {
    expect(pipelineConfigFor(settings(), 100)).toMatchObject({ guidance: [{ type: 'classifier', scale: 2 }], classes: [1], batch_size: 2, num_samples: 2, seed: 7, preview_every: 1 });
    expect(pipelineConfigFor(settings({ guidanceScale: 0 }), 100).guidance).toEqual([]);
    expect(pipelineConfigFor(settings({ model: { ...model, classifier: undefined } }), 100).guidance).toEqual([]);
    expect(pipelineConfigFor(settings({ classLabel: 'random' }), 100).classes).toBe('random');
    expect(pipelineConfigFor(settings({ classLabel: 'none' }), 100).classes).toBeUndefined();
  });

  it('rejects more steps than the model has, naming the limit', () => {
    expect(() => pipelineConfigFor(settings({ steps: 101 }), 100)).toThrow(/\[1, 100\]/);
  });
});

describe('samplePage', () => {
  it('draws every step and returns the final x_t as uint8 images, leaking no tensors', async () => {
    const models = await loadPageModels(model, 'http://x/m/', fakeFetch);
    expect(models.diffusionSteps).toBe(100);
    const before = tf.memory().numTensors;
    const steps: PageStep[] = [];
    const result = await samplePage(models, settings(), new AbortController().signal, (s) => steps.push(s));
    const images = result?.images;
    expect(Array.from(result!.labels!)).toEqual([1, 1]);
    expect(tf.memory().numTensors).toBe(before);
    expect(steps.map((s) => [s.done, s.total])).toEqual([[1, 3], [2, 3], [3, 3]]);
    for (const s of steps) {
      expect(s.xt.shape).toEqual([2, 8, 8, 1]);
      expect(s.x0.shape).toEqual([2, 8, 8, 1]);
      expect(s.x0.data).toBeInstanceOf(Uint8Array);
    }
    expect(steps[0]!.xt.data).not.toEqual(steps[2]!.xt.data);
    // The last x_t drawn is the sample: its bytes are the images the run returns.
    expect(images!.shape).toEqual([2, 8, 8, 1]);
    expect(Array.from(images!.data)).toEqual(Array.from(steps[2]!.xt.data, toByte));
    // Tapping x_t changes nothing: the same config through an untapped pipeline.
    const direct = await createPagePipeline().sample(pipelineConfigFor(settings(), 100), { models: { model: models.denoiser, classifier: models.classifier } });
    expect(Array.from(direct.images.data)).toEqual(Array.from(images!.data));
    models.dispose();
  });

  it('stops on abort, returns null and frees the run', async () => {
    const models = await loadPageModels(model, 'http://x/m/', fakeFetch);
    const before = tf.memory().numTensors;
    const abort = new AbortController();
    const seen: number[] = [];
    const result = await samplePage(models, settings({ steps: 5, sampler: 'ddim' }), abort.signal, (s) => {
      seen.push(s.done);
      if (s.done === 2) abort.abort();
    });
    expect(result).toBeNull();
    expect(seen).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    models.dispose();
  });

  it('refuses a classifier folder where the denoiser belongs, naming model_type', async () => {
    await expect(loadPageModels({ ...model, denoiser: 'clf/' }, 'http://x/m/', fakeFetch)).rejects.toThrow(/clf\/config\.json: model_type: holds a classifier model, expected unet/);
  });

  it('names the file a model folder is missing', async () => {
    await expect(loadPageModels({ ...model, classifier: 'nope/' }, 'http://x/m/', fakeFetch)).rejects.toThrow(/http:\/\/x\/m\/nope\/(config\.json|model\.safetensors)/);
  });
});

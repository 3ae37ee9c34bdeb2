import * as tf from '@tensorflow/tfjs';
import { ConfigError, TensorFileError, serializeSafetensors, useBackend } from '@adm/core';
import { createFromFlags, stateDict, type ModelFlags } from '@adm/unet';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPageClassifier, loadPageDenoiser } from './browser-model-loader.js';

// The page's loaders (@adm/unet's loadModel on a folder URL) refuse malformed folders with
// errors naming the URL of the file at fault, before allocating anything, and build a good folder.
const URL_BASE = 'http://page/models/m/';
const UNET: ModelFlags = { model_type: 'unet', image_size: 8, in_channels: 1, num_channels: 32, channel_mult: '1', num_res_blocks: 1, attention_resolutions: '', class_cond: true, num_classes: 10, learn_sigma: true };
const CLASSIFIER: ModelFlags = { model_type: 'classifier', image_size: 8, in_channels: 1, classifier_width: 32, channel_mult: '1', classifier_depth: 1, classifier_attention_resolutions: '', classifier_pool: 'adaptive', num_head_channels: 32, num_classes: 10 };

let unetWeights: Uint8Array;
let classifierWeights: Uint8Array;

beforeAll(async () => {
  await useBackend('cpu');
  const weightsOf = (flags: ModelFlags) => {
    const net = createFromFlags(flags.model_type as 'unet' | 'classifier', flags, { seed: 1 });
    const bytes = serializeSafetensors(stateDict(net));
    net.dispose();
    return bytes;
  };
  unetWeights = weightsOf(UNET);
  classifierWeights = weightsOf(CLASSIFIER);
});

/** A fetch serving one model folder at URL_BASE: config.json (an object, or raw text) and model.safetensors. */
function folder(config: Record<string, unknown> | string, weights: Uint8Array): typeof fetch {
  const files: Record<string, BodyInit> = {
    [`${URL_BASE}config.json`]: typeof config === 'string' ? config : JSON.stringify(config),
    [`${URL_BASE}model.safetensors`]: weights as Uint8Array<ArrayBuffer>,
  };
  return (async (url: string) => (url in files ? new Response(files[url]) : new Response('nope', { status: 404, statusText: 'Not Found' }))) as typeof fetch;
}

/** The error loading a denoiser from `f` gives, with nothing left allocated. */
async function denoiserError(f: typeof fetch, url = URL_BASE): Promise<Error> {
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    (await loadPageDenoiser(url, f)).denoiser.dispose?.();
  } catch (e) {
    error = e;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('browser model loader', () => {
  it('builds good folders (folder URL with or without the trailing slash)', async () => {
    const d = await loadPageDenoiser(URL_BASE.slice(0, -1), folder(UNET, unetWeights));
    expect(d.denoiser.info).toMatchObject({ imageSize: 8, inChannels: 1, numClasses: 10, learnSigma: true });
    expect(d.flags.num_classes).toBe(10);
    d.denoiser.dispose?.();
    const c = await loadPageClassifier(URL_BASE, folder(CLASSIFIER, classifierWeights));
    expect(c.classifier.info.numClasses).toBe(10);
    c.classifier.dispose?.();
  });

  it('a missing file, a config that is not a JSON object of flags, or is over 1 MiB: names config.json', async () => {
    expect((await denoiserError(folder(UNET, unetWeights), 'http://page/models/other/')).message).toMatch(/^http:\/\/page\/models\/other\/(config\.json|model\.safetensors): could not be fetched: HTTP 404/);
    expect((await denoiserError(folder('[1, 2]', unetWeights))).message).toMatch(/^http:\/\/page\/models\/m\/config\.json: expected a JSON object of flags/);
    expect((await denoiserError(folder('{"a": ', unetWeights))).message).toMatch(/^http:\/\/page\/models\/m\/config\.json: not valid JSON/);
    expect((await denoiserError(folder(`{"pad": "${' '.repeat(1 << 20)}"}`, unetWeights))).message).toBe(`${URL_BASE}config.json: 1048587 bytes; at most 1048576 are expected here`);
  });

  it('bad safetensors: names model.safetensors', async () => {
    const e = await denoiserError(folder(UNET, new TextEncoder().encode('not a safetensors file')));
    expect(e).toBeInstanceOf(TensorFileError);
    expect(e.message.startsWith(`${URL_BASE}model.safetensors: `)).toBe(true);
  });

  it('weights of another shape: names model.safetensors and the first tensor that differs', async () => {
    const e = await denoiserError(folder({ ...UNET, num_channels: 64 }, unetWeights)) as TensorFileError;
    expect(e).toBeInstanceOf(TensorFileError);
    expect(e.tensor).toBe('time_embed.0.weight');
    expect(e.message).toMatch(/^http:\/\/page\/models\/m\/model\.safetensors \(tensor "time_embed\.0\.weight"\): state_dict does not fit the model \(mis-shaped parameters: time_embed\.0\.weight: file has \[128, 32\], model expects \[256, 64\]/);
  });

  it("a classifier's folder where a denoiser is expected, with or without model_type", async () => {
    expect((await denoiserError(folder(CLASSIFIER, classifierWeights))).message).toMatch(/^http:\/\/page\/models\/m\/config\.json: model_type: .*classifier.*unet|unet.*classifier/);
    const { model_type: _, ...anonymous } = CLASSIFIER;
    expect((await denoiserError(folder(anonymous, classifierWeights))).message).toMatch(/^http:\/\/page\/models\/m\/config\.json: model_type: missing, and the flags are a classifier's/);
  });

  it('absurd or wrongly typed flags: names config.json and the flag', async () => {
    const e = await denoiserError(folder({ ...UNET, num_channels: 32_000_000 }, unetWeights));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe(`${URL_BASE}config.json: num_channels: expected an integer in [1, 8192], got 32000000`);
    const deep = JSON.stringify({ ...UNET, channel_mult: 0 }).replace('"channel_mult":0', `"channel_mult":${'['.repeat(10_000)}1${']'.repeat(10_000)}`);
    expect((await denoiserError(folder(deep, unetWeights))).message).toBe(
      `${URL_BASE}config.json: channel_mult: expected positive numbers up to 64, got an array of 1 items (nested)`,
    );
  });
});

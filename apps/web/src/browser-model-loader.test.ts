import * as tf from '@tensorflow/tfjs';
import { ConfigError, TensorFileError, serializeSafetensors, useBackend } from '@adm/core';
import { createFromFlags, stateDict, type ModelFlags } from '@adm/unet';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierFromFolder, denoiserFromFolder } from './browser-model-loader.js';
import type { FetchedModelFolder } from './model-catalog.js';

// The page's loader refuses malformed folders with errors naming the URL of the file at
// fault, before allocating anything, and builds a good folder.
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

const folder = (config: Record<string, unknown>, weights: Uint8Array): FetchedModelFolder => ({ url: URL_BASE, config, weights });

/** The error loading a denoiser from `f` gives, with nothing left allocated. */
function denoiserError(f: FetchedModelFolder): Error {
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    denoiserFromFolder(f).denoiser.dispose?.();
  } catch (e) {
    error = e;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('browser model loader', () => {
  it('builds good folders', () => {
    const d = denoiserFromFolder(folder(UNET, unetWeights));
    expect(d.denoiser.info).toMatchObject({ imageSize: 8, inChannels: 1, numClasses: 10, learnSigma: true });
    expect(d.flags.num_classes).toBe(10);
    d.denoiser.dispose?.();
    const c = classifierFromFolder(folder(CLASSIFIER, classifierWeights));
    expect(c.classifier.info.numClasses).toBe(10);
    c.classifier.dispose?.();
  });

  it('bad safetensors: names model.safetensors', () => {
    const e = denoiserError(folder(UNET, new TextEncoder().encode('not a safetensors file')));
    expect(e).toBeInstanceOf(TensorFileError);
    expect(e.message.startsWith(`${URL_BASE}model.safetensors: `)).toBe(true);
  });

  it('weights of another shape: names model.safetensors and the first tensor that differs', () => {
    const e = denoiserError(folder({ ...UNET, num_channels: 64 }, unetWeights)) as TensorFileError;
    expect(e).toBeInstanceOf(TensorFileError);
    expect(e.tensor).toBe('time_embed.0.weight');
    expect(e.message).toMatch(/^http:\/\/page\/models\/m\/model\.safetensors \(tensor "time_embed\.0\.weight"\): state_dict does not fit the model \(mis-shaped parameters: time_embed\.0\.weight: file has \[128, 32\], model expects \[256, 64\]/);
  });

  it("a classifier's folder where a denoiser is expected, with or without model_type", () => {
    expect(denoiserError(folder(CLASSIFIER, classifierWeights)).message).toBe(`${URL_BASE}config.json: model_type: the page needs a "unet" model here, the folder holds a "classifier" model`);
    const { model_type: _, ...anonymous } = CLASSIFIER;
    expect(denoiserError(folder(anonymous, classifierWeights)).message).toMatch(/^http:\/\/page\/models\/m\/config\.json: model_type: missing, and the flags are a classifier's/);
  });

  it('absurd or wrongly typed flags: names config.json and the flag', () => {
    const e = denoiserError(folder({ ...UNET, num_channels: 32_000_000 }, unetWeights));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe(`${URL_BASE}config.json: num_channels: expected an integer in [1, 8192], got 32000000`);
    expect(denoiserError(folder({ ...UNET, channel_mult: JSON.parse(`${'['.repeat(10_000)}1${']'.repeat(10_000)}`) }, unetWeights)).message).toBe(
      `${URL_BASE}config.json: channel_mult: expected positive numbers up to 64, got an array of 1 items (nested)`,
    );
  });
});

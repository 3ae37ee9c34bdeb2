// An ESM program that knows only the published packages: guided sampling with the default
// model; prints one JSON line (the test compares it with the CommonJS program's).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createContainer, pipelineModule, TOKENS, useBackend } from '@adm/core';
import '@adm/backends';
import { guidanceModule } from '@adm/guidance';
import { mnistClassifier, mnistDenoiser, modelFolderOf } from '@adm/models-mnist';
import { samplersModule } from '@adm/samplers';
import { schedulesModule } from '@adm/schedules';
import { unetModule } from '@adm/unet';

// The run (respacing, sampler, guidance, batch, seed, classes) is shared with sample-cjs.cjs and the test.
const run = JSON.parse(readFileSync(new URL('./run.json', import.meta.url), 'utf8'));
const backend = await useBackend(process.env.CONSUMER_BACKEND ?? 'wasm');
const pipeline = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule, unetModule).get(TOKENS.SamplingPipeline);
let steps = 0;
for await (const ev of pipeline.run({
  model: modelFolderOf(mnistDenoiser).href,
  classifier: modelFolderOf(mnistClassifier).href,
  ...run,
})) {
  if (ev.type === 'step') steps++;
  else {
    const { images, labels } = ev.result;
    const sha256 = createHash('sha256').update(images.data).digest('hex');
    const distinct = new Set(images.data).size;
    console.log(JSON.stringify({ backend: backend.name, steps, shape: images.shape, labels: Array.from(labels), distinct, sha256 }));
  }
}

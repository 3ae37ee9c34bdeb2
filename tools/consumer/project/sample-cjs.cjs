// The same program as sample-esm.mjs, loaded through require() (the packages' CommonJS builds).
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS consumer, on purpose */
const { createHash } = require('node:crypto');
const { createContainer, pipelineModule, TOKENS, useBackend } = require('@adm/core');
require('@adm/backends');
const { guidanceModule } = require('@adm/guidance');
const { mnistClassifier, mnistDenoiser, modelFolderOf } = require('@adm/models-mnist');
const { samplersModule } = require('@adm/samplers');
const { schedulesModule } = require('@adm/schedules');
const { unetModule } = require('@adm/unet');

// The run (respacing, sampler, guidance, batch, seed, classes) is shared with sample-esm.mjs and the test.
const run = require('./run.json');

async function main() {
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
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

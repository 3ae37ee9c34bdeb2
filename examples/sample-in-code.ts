// Guided sampling composed in code: the README's "In code" example, runnable with
// `npx tsx --tsconfig tsconfig.base.json examples/sample-in-code.ts` (or, installed from npm,
// as a plain .mjs/.ts program).
import { createContainer, pipelineModule, TOKENS, useBackend, type SamplingPipeline } from '@adm/core';
import '@adm/backends'; // the wasm, wasm-mt and webgpu backends (core alone has only cpu)
import { guidanceModule } from '@adm/guidance';
import { mnistClassifier, mnistDenoiser, modelFolderOf } from '@adm/models-mnist';
import { samplersModule } from '@adm/samplers';
import { schedulesModule } from '@adm/schedules';
import { unetModule } from '@adm/unet';

await useBackend('auto');
const container = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule, unetModule);
const pipeline = container.get<SamplingPipeline>(TOKENS.SamplingPipeline);
for await (const ev of pipeline.run({
  model: modelFolderOf(mnistDenoiser).href, // a folder path or URL: file:, http(s):
  classifier: modelFolderOf(mnistClassifier).href,
  respacing: 'ddim25',
  sampler: 'ddim',
  guidance: [{ type: 'classifier', scale: 2 }],
  batch_size: 8,
  seed: 1,
  classes: [3],
})) {
  if (ev.type === 'step') process.stderr.write(`\rstep ${ev.completed}/${ev.total}`);
  else console.log(`\n${ev.result.images.shape.join('x')} images, labels ${Array.from(ev.result.labels ?? [])}`);
}

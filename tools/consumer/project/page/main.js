// A page that imports only the published packages (bundled by Vite): guided sampling with the
// default MNIST models in the browser, the result drawn on a canvas and described in #out.
import { createContainer, pipelineModule, TOKENS, useBackend } from '@adm/core';
import '@adm/backends';
import { guidanceModule } from '@adm/guidance';
import { mnistClassifier, mnistDenoiser } from '@adm/models-mnist';
import { samplersModule } from '@adm/samplers';
import { schedulesModule } from '@adm/schedules';
import { loadModel, unetModule } from '@adm/unet';
// The run (respacing, sampler, guidance, batch, seed, classes) the Node programs make too.
import run from '../run.json';

const out = document.getElementById('out');
try {
  const backend = await useBackend(new URLSearchParams(location.search).get('backend') ?? 'wasm');
  const den = await loadModel(mnistDenoiser, { expect: ['unet'] });
  const clf = await loadModel(mnistClassifier, { expect: ['classifier'] });
  const pipeline = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule, unetModule).get(TOKENS.SamplingPipeline);
  const models = { model: { denoiser: den.model, flags: den.flags }, classifier: { classifier: clf.model, flags: clf.flags } };
  for await (const ev of pipeline.run(run, { models })) {
    if (ev.type !== 'done') continue;
    const { images, labels } = ev.result;
    const [n, h, w] = images.shape;
    const rgba = new ImageData(w * n, h);
    for (let i = 0; i < n; i++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const v = images.data[(i * h + y) * w + x];
          rgba.data.set([v, v, v, 255], (y * w * n + i * w + x) * 4);
        }
    document.getElementById('grid').getContext('2d').putImageData(rgba, 0, 0);
    const digest = await crypto.subtle.digest('SHA-256', images.data);
    const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    out.textContent = JSON.stringify({ backend: backend.name, shape: images.shape, labels: Array.from(labels), distinct: new Set(images.data).size, sha256 });
  }
} catch (e) {
  out.textContent = `error: ${e?.stack ?? e}`;
}

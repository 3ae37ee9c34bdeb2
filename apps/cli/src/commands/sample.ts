// `adm sample`: class-conditional (guided) sampling with the pipeline of @adm/core wired by
// inversify; writes a PNG grid and an .npz (arr_0 uint8 NHWC, arr_1 labels) as
// guided-diffusion's sample scripts do.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdmError, ConfigError, createContainer, encodePng, type GuidanceSpec, imageGrid, pipelineModule, type SamplingPipeline, serializeNpz, TOKENS, writeFileAtomic } from '@adm/core';
import { guidanceModule } from '@adm/guidance';
import { mnistClassifier, mnistDenoiser, modelFolderOf } from '@adm/models-mnist';
import { samplersModule } from '@adm/samplers';
import { schedulesModule } from '@adm/schedules';
import { unetModule } from '@adm/unet';
import { checkBackendFlag, startBackend } from '../backend-flag.js';
import { type CliCommand, parseFlags } from '../command.js';
import { isQuiet, noteLine } from '../output.js';
import { createProgress, type Progress } from '../progress.js';
import { checkSamplePipeline, parseSamplePipeline } from './sample-flags.js';

const USAGE = `usage: adm sample --out <folder> [options]

  --model <dir>          model folder (config.json + model.safetensors); default: the MNIST
                         denoiser of @adm/models-mnist
  --classifier <dir|none> noisy classifier folder for classifier guidance; default: the MNIST
                         classifier of @adm/models-mnist when the model is the default one
  --scale <s>            classifier guidance scale (default 1; 0 = no guidance)
  --class <k,..|random>  class labels, repeated over the samples (default: random)
  --steps <respacing>    timestep respacing: ddim25, 250, "10,15,20", or "" for all steps (default ddim25)
  --sampler <name>       ddim, ddpm, dpm-solver++ (default: ddim for ddimN respacings, else ddpm)
  --eta <x>              DDIM eta (default 0)
  --batch <n>            batch size (default 16)
  --num-samples <n>      number of samples (default: the batch size)
  --seed <n>             seed of the noise and random classes (default 0)
  --backend <names>      tfjs backend preference (default: ADM_BACKEND, else auto)
  --config <file>        pipeline JSON (docs/samplers.md); the flags above override its fields
  --out <folder>         writes samples_<N>x<H>x<W>x<C>.npz, grid.png and pipeline.json
  --quiet                no progress bar or summary on stderr`;

/** The default models: @adm/models-mnist's denoiser and classifier folders (a dependency of the CLI). */
function bundledModels(): { model?: string; classifier?: string } {
  return { model: fileURLToPath(modelFolderOf(mnistDenoiser)), classifier: fileURLToPath(modelFolderOf(mnistClassifier)) };
}

/** The pipeline `adm sample` uses: core's pipeline with schedules, samplers, guidance and loaders. */
export function createCliSamplingPipeline(): SamplingPipeline {
  return createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule, unetModule).get<SamplingPipeline>(TOKENS.SamplingPipeline);
}

function int(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${flag}`, `expected an integer >= ${min}, got "${v}"`);
  return n;
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`--${flag}`, `expected a number, got "${v}"`);
  return n;
}

export const command: CliCommand = {
  name: 'sample',
  async run(argv) {
    const { values } = parseFlags(
      'sample',
      argv,
      {
        model: { type: 'string' },
        classifier: { type: 'string' },
        scale: { type: 'string' },
        class: { type: 'string' },
        steps: { type: 'string' },
        sampler: { type: 'string' },
        eta: { type: 'string' },
        batch: { type: 'string' },
        'num-samples': { type: 'string' },
        seed: { type: 'string' },
        backend: { type: 'string' },
        config: { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      false,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.out) throw new ConfigError('--out', 'required: the folder to write samples into (adm sample --help)');

    let json: Record<string, unknown> = {};
    if (values.config) {
      let text: string;
      try {
        text = await readFile(values.config, 'utf8');
      } catch (e) {
        throw new ConfigError('--config', `cannot read ${values.config} (${(e as Error).message})`);
      }
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new ConfigError(values.config, `not valid JSON (${(e as Error).message})`);
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(values.config, 'expected a pipeline JSON object');
    }

    // Models: flags, else the config, else the bundled MNIST models.
    const bundled = values.model || json.model ? {} : bundledModels();
    const model = values.model ?? (json.model as string | undefined) ?? bundled.model;
    if (!model) {
      throw new ConfigError('--model', 'no model folder given and no bundled MNIST model (models/mnist-*) was found: pass --model <folder> (train one with `adm train --preset mnist`)');
    }
    json.model = model;
    let classifier = values.classifier ?? (json.classifier as string | undefined) ?? bundled.classifier;
    if (classifier === 'none') classifier = undefined;
    if (classifier === undefined) delete json.classifier;
    else json.classifier = classifier;

    const scale = num('scale', values.scale);
    const guidance = Array.isArray(json.guidance) ? [...(json.guidance as GuidanceSpec[])] : [];
    const ci = guidance.findIndex((g) => g && g.type === 'classifier');
    if (scale !== undefined && classifier === undefined) throw new ConfigError('--scale', 'classifier guidance needs a classifier (--classifier <folder>)');
    if (classifier !== undefined) {
      if (ci >= 0) guidance[ci] = { ...guidance[ci], ...(scale !== undefined ? { scale } : {}) };
      else guidance.unshift({ type: 'classifier', scale: scale ?? 1 });
    }
    json.guidance = guidance.filter((g) => !(g.type === 'classifier' && g.scale === 0));

    if (values.steps !== undefined) json.respacing = values.steps;
    else if (json.respacing === undefined) json.respacing = 'ddim25';
    if (values.sampler !== undefined || values.eta !== undefined) {
      const prev = typeof json.sampler === 'string' ? { name: json.sampler } : ((json.sampler as Record<string, unknown>) ?? {});
      const name = values.sampler ?? (prev.name as string | undefined) ?? (String(json.respacing).startsWith('ddim') ? 'ddim' : 'ddpm');
      const eta = num('eta', values.eta);
      if (eta !== undefined && name !== 'ddim') throw new ConfigError('--eta', `only the ddim sampler takes eta (sampler: ${name})`);
      json.sampler = { ...(name === prev.name ? prev : {}), name, ...(eta !== undefined ? { eta } : {}) };
    }
    const batch = int('batch', values.batch, 1);
    if (batch !== undefined) json.batch_size = batch;
    const numSamples = int('num-samples', values['num-samples'], 1);
    if (numSamples !== undefined) json.num_samples = numSamples;
    const seed = int('seed', values.seed, 0);
    if (seed !== undefined) json.seed = seed;
    if (values.class !== undefined) {
      if (values.class === 'random') json.classes = 'random';
      else {
        json.classes = values.class.split(',').map((s) => {
          const k = Number(s.trim());
          if (!Number.isInteger(k) || k < 0) throw new ConfigError('--class', `expected class indices like 3 or 1,4,7 or "random", got "${values.class}"`);
          return k;
        });
      }
    }
    const pipelineBackend = json.backend;
    if (pipelineBackend !== undefined && typeof pipelineBackend !== 'string') throw new ConfigError(`${values.config}: backend`, `expected a string, got ${JSON.stringify(pipelineBackend)}`);
    delete json.backend;
    // Every flag is checked here, before the backend starts and any weights are read.
    const config = parseSamplePipeline(json, values, values.config);
    await checkSamplePipeline(config, values, values.config);
    const backendWanted = await checkBackendFlag(values.backend, pipelineBackend);

    const quiet = values.quiet || isQuiet();
    const chosen = await startBackend(backendWanted, values.backend);
    const pipeline = createCliSamplingPipeline();
    let bar: Progress | undefined;
    let result;
    for await (const ev of pipeline.run(config)) {
      if (ev.type === 'done') {
        result = ev.result;
        break;
      }
      bar ??= createProgress('sample', ev.total, { unit: 'steps', quiet });
      bar.update(ev.completed, `${ev.stage} batch ${ev.batch + 1}/${ev.numBatches}`);
    }
    bar?.finish();
    if (!result) throw new AdmError('the sampling run ended without a result');

    await mkdir(values.out, { recursive: true });
    const [n, h, w, c] = result.images.shape;
    const arrays: Record<string, import('@adm/core').HostTensor> = { arr_0: { dtype: 'U8', shape: [n, h, w, c], data: result.images.data } };
    if (result.labels) arrays.arr_1 = { dtype: 'I64', shape: [n], data: BigInt64Array.from(result.labels, (v) => BigInt(v)) };
    const npzPath = join(values.out, `samples_${n}x${h}x${w}x${c}.npz`);
    await writeFileAtomic(npzPath, serializeNpz(arrays));
    const grid = imageGrid(result.images);
    const pngPath = join(values.out, 'grid.png');
    await writeFileAtomic(pngPath, encodePng(grid.data, grid.width, grid.height, grid.channels));
    await writeFileAtomic(join(values.out, 'pipeline.json'), JSON.stringify({ ...config, backend: chosen.name }, null, 2) + '\n');
    if (!quiet) noteLine(`wrote ${npzPath} and ${pngPath}${result.labels ? ` (labels ${Array.from(result.labels.slice(0, 16)).join(',')}${n > 16 ? ',...' : ''})` : ''} on ${chosen.name}`);
    return 0;
  },
};

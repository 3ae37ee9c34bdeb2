// `adm train-classifier`: train a noisy-image classifier (EncoderUNetModel) on q_sample-noised
// images at uniform t, as guided-diffusion's scripts/classifier_train.py does.
import { join } from 'node:path';
import { backendPreference, ConfigError, createGaussianDiffusion, loadBackendPluginModules, useBackend } from '@adm/core';
import { scheduleFactory } from '@adm/schedules';
import { ClassifierTrainLoop, ProgressBar } from '@adm/train';
import { createClassifier, saveModelFolder } from '@adm/unet';
import { parseFlags, type CliCommand } from '../command.js';
import { diffusionFlags, flagsFrom, loadDataset, presetNames } from './train.js';

const usage = () => `usage: adm train-classifier (--preset <name> | --config <flags.json>) --data <mnist|file.npz> --out <run folder> [options]

  --preset <name>        classifier flags preset (${presetNames('classifier').join(', ')})
  --config <file>        guided-diffusion classifier flags as JSON (classifier_width, classifier_depth,
                         classifier_attention_resolutions, classifier_pool, image_size, diffusion_steps,
                         noise_schedule, ...; in_channels, num_classes, channel_mult,
                         num_head_channels added); with --preset, overrides the preset's flags
  --data <src>           mnist, an .npz (arr_0 uint8 [N,H,W,C], arr_1 labels) or a folder of
                         "<class>_<name>.png" images
  --out <dir>            run folder: checkpoints/, latest.json, metrics.jsonl, classifier/
  --steps <n>            iterations (default 1000)
  --batch <n>            batch size (default 16)
  --microbatch <n>       split batches into microbatches of n (default: no split)
  --lr <x>               AdamW learning rate (default 3e-4)
  --weight-decay <x>     AdamW weight decay (default 0.05, the paper's classifiers)
  --anneal-lr            decay the lr linearly to 0 over --steps
  --no-noise             train on clean images (classifier_train.py noised=False)
  --save-every <n>       checkpoint interval (default 500; always at the end)
  --log-every <n>        metrics.jsonl interval (default 10)
  --resume               continue from the run folder's latest checkpoint
  --data-limit <n>       use only the first n examples
  --backend <names>      tfjs backend preference (default: ADM_BACKEND, else auto)
  --seed <n>             seed (default 0)`;

function num(flag: string, v: string | undefined, dflt: number, integer = false, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) throw new ConfigError(`--${flag}`, `expected ${integer ? 'an integer' : 'a number'} >= ${min}, got "${v}"`);
  return n;
}

export const command: CliCommand = {
  name: 'train-classifier',
  summary: 'train a noisy-image classifier for classifier guidance',
  async run(argv) {
    const { values } = parseFlags(
      'train-classifier',
      argv,
      {
        preset: { type: 'string' },
        config: { type: 'string' },
        data: { type: 'string' },
        out: { type: 'string' },
        steps: { type: 'string' },
        batch: { type: 'string' },
        microbatch: { type: 'string' },
        lr: { type: 'string' },
        'weight-decay': { type: 'string' },
        'anneal-lr': { type: 'boolean' },
        'no-noise': { type: 'boolean' },
        'save-every': { type: 'string' },
        'log-every': { type: 'string' },
        resume: { type: 'boolean' },
        'data-limit': { type: 'string' },
        backend: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      false,
    );
    if (values.help) {
      console.log(usage());
      return 0;
    }
    if (!values.out) throw new ConfigError('--out', 'a run folder is required');
    if (!values.data) throw new ConfigError('--data', 'required: mnist or an .npz file');
    if (!values.preset && !values.config) throw new ConfigError('--preset/--config', 'give a preset or a flags JSON file');
    const flags = await flagsFrom('classifier', values.preset, values.config);
    const diffusionArgs = diffusionFlags(flags);
    const seed = num('seed', values.seed, 0, true);
    const steps = num('steps', values.steps, 1000, true, 1);
    const batchSize = num('batch', values.batch, 16, true, 1);

    await loadBackendPluginModules();
    const backend = await useBackend(backendPreference({ flag: values.backend }), (l) => console.error(`# ${l}`));
    console.error(`# backend ${backend.name}`);
    const classifier = createClassifier(flags, { seed });
    classifier.training = true;
    const info = classifier.info;
    const data = await loadDataset(values.data, info.imageSize, info.inChannels, values['data-limit'] ? num('data-limit', values['data-limit'], 0, true, 1) : undefined);
    const diffusion = createGaussianDiffusion(diffusionArgs, scheduleFactory);
    const runDir = values.out;
    const loop = new ClassifierTrainLoop({
      classifier,
      diffusion,
      data,
      batchSize,
      microbatch: values.microbatch ? num('microbatch', values.microbatch, 0, true, 1) : undefined,
      lr: num('lr', values.lr, 3e-4),
      weightDecay: num('weight-decay', values['weight-decay'], 0.05),
      noised: !values['no-noise'],
      annealLr: !!values['anneal-lr'],
      iterations: steps,
      seed,
      runDir,
      saveInterval: num('save-every', values['save-every'], 500, true, 1),
      logInterval: num('log-every', values['log-every'], 10, true, 1),
      exportModel: (dir) => saveModelFolder(dir, classifier, flags),
      config: flags,
    });
    try {
      if (values.resume) {
        if (await loop.resume()) console.error(`# resumed ${runDir} at step ${loop.step}`);
        else console.error(`# ${runDir} has no checkpoint yet: starting from step 0`);
      }
      const nParams = [...loop.params.values()].reduce((a, v) => a + v.size, 0);
      console.error(`# ${nParams} parameters, data ${data.name} (${data.length} images), batch ${batchSize}, steps ${loop.step} -> ${steps}`);
      const bar = new ProgressBar(steps, undefined, 28, loop.step);
      let last = '';
      await loop.run(steps, {
        onStep: (r) => bar.update(r.step, last || `loss ${r.loss.toFixed(4)} acc@1 ${r.acc1.toFixed(2)}`),
        onLog: (rec) => {
          last = `loss ${rec.train_loss?.toFixed(4)} acc@1 ${rec['train_acc@1']?.toFixed(3)}`;
        },
      });
      bar.finish();
      console.error(`# done: ${join(runDir, 'classifier')}`);
      return 0;
    } finally {
      loop.dispose();
      classifier.dispose();
    }
  },
};

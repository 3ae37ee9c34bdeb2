// `adm train-classifier`: train a noisy-image classifier (EncoderUNetModel) on q_sample-noised
// images at uniform t, as guided-diffusion's scripts/classifier_train.py does.
import { join } from 'node:path';
import { createGaussianDiffusion } from '@adm/core';
import { scheduleFactory } from '@adm/schedules';
import { ClassifierTrainLoop } from '@adm/train';
import { createClassifier, saveModelFolder } from '@adm/unet';
import { checkBackendFlag } from '../backend-flag.js';
import { parseFlags, type CliCommand } from '../command.js';
import { noteLine } from '../output.js';
import { diffusionFlags, flagsFrom, loadDataset, presetNames } from './train.js';
import { beginTraining, checkDataFlag, HELP_FLAG_OPTION, readTrainFlags, startTrainingBackend, TRAIN_FLAG_OPTIONS } from './train-flags.js';

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

export const command: CliCommand = {
  name: 'train-classifier',
  async run(argv) {
    const { values } = parseFlags(
      'train-classifier',
      argv,
      { ...TRAIN_FLAG_OPTIONS, 'anneal-lr': { type: 'boolean' }, 'no-noise': { type: 'boolean' }, ...HELP_FLAG_OPTION },
      false,
    );
    if (values.help) {
      console.log(usage());
      return 0;
    }
    const run = readTrainFlags(values, { lr: 3e-4, weightDecay: 0.05 });
    const { seed, steps, runDir } = run;
    // Every flag is checked here, before the backend starts and the classifier is built.
    await checkDataFlag(run.data);
    const flags = await flagsFrom('classifier', run.preset, run.config);
    const diffusionArgs = diffusionFlags(flags);
    const preference = await checkBackendFlag(run.backend);

    await startTrainingBackend(preference, run.backend);
    const classifier = createClassifier(flags, { seed });
    classifier.training = true;
    const info = classifier.info;
    const data = await loadDataset(run.data, info.imageSize, info.inChannels, run.dataLimit);
    const diffusion = createGaussianDiffusion(diffusionArgs, scheduleFactory);
    const loop = new ClassifierTrainLoop({
      classifier,
      diffusion,
      data,
      batchSize: run.batchSize,
      microbatch: run.microbatch,
      lr: run.lr,
      weightDecay: run.weightDecay,
      noised: !values['no-noise'],
      annealLr: !!values['anneal-lr'],
      iterations: steps,
      seed,
      runDir,
      saveInterval: run.saveInterval,
      logInterval: run.logInterval,
      exportModel: (dir) => saveModelFolder(dir, classifier, flags),
      config: flags,
    });
    try {
      const bar = await beginTraining(loop, run, data);
      let last = '';
      await loop.run(steps, {
        onStep: (r) => bar.update(r.step, last || `loss ${r.loss.toFixed(4)} acc@1 ${r.acc1.toFixed(2)}`),
        onLog: (rec) => {
          last = `loss ${rec.train_loss?.toFixed(4)} acc@1 ${rec['train_acc@1']?.toFixed(3)}`;
        },
      });
      bar.finish();
      noteLine(`# done: ${join(runDir, 'classifier')}`);
      return 0;
    } finally {
      loop.dispose();
      classifier.dispose();
    }
  },
};

// `adm convert <checkpoint> <out-folder>`: an openai/guided-diffusion checkpoint (.pt, read
// by the restricted unpickler; or a .safetensors state_dict) -> a model folder
// (config.json + model.safetensors) that loadModelFolder, `adm sample` and the web app read.
import { readFile, stat } from 'node:fs/promises';
import { ConfigError, readSafetensorsFile, readTorchCheckpointFile, type HostTensor } from '@adm/core';
import { PRESETS, createFromFlags, getPreset, loadStateDict, saveModelFolder, type ModelFlags, type ModelType } from '@adm/unet';
import { asFlagError, checkPathFlag, parseFlags, type CliCommand, UsageError } from '../command.js';

const USAGE = `usage: adm convert <checkpoint> <out-folder> (--preset <name> | --config <file.json> | -- <flags>) [options]

Converts an openai/guided-diffusion checkpoint into a model folder (config.json +
model.safetensors). A .pt file is read by a restricted unpickler that only rebuilds
tensors: nothing in it is ever executed.

  <checkpoint>         a .pt file saved by torch.save(model.state_dict()), or a .safetensors state_dict
  <out-folder>         created if missing; each file is written atomically
  --preset <name>      the flags of a released model (adm convert --list-presets)
  --config <file>      a JSON object of guided-diffusion flags (a model folder's config.json, or a
                       fixture case.json: its model_call.kwargs are used)
  -- <flags>           guided-diffusion flags as its scripts take them, applied last, e.g.
                       -- --image_size 64 --num_channels 192 --class_cond True --learn_sigma True
  --model-type <t>     unet | superres | classifier (default: from the preset/config, else unet)
  --prefix <p>         keep only tensors named <p>..., with <p> removed (e.g. "model.")
  --non-strict         allow missing/unexpected parameter names (shapes are always checked)
  --force              replace an existing model folder
  --list-presets       print the presets and exit`;

/** "--name value" pairs (guided-diffusion's argparse style) -> flags; values stay strings. */
export function parseGuidedDiffusionFlags(args: string[]): ModelFlags {
  const flags: ModelFlags = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--([A-Za-z_][\w-]*)(?:=(.*))?$/.exec(a);
    if (!m) throw new UsageError('--', `expected --<flag> <value> after "--", got ${JSON.stringify(a)}`);
    const name = m[1].replace(/-/g, '_');
    let value = m[2];
    if (value === undefined) {
      if (i + 1 >= args.length) throw new UsageError(`--${name}`, 'missing value');
      value = args[++i];
    }
    flags[name] = value;
  }
  return flags;
}

const TYPE_BY_FUNCTION: Array<[RegExp, ModelType]> = [
  [/SuperResModel$|sr_create_model$/, 'superres'],
  [/EncoderUNetModel$|create_classifier$/, 'classifier'],
  [/UNetModel$|create_model$/, 'unet'],
];

/** Flags (and model_type) from a --config JSON file. */
async function configFlags(path: string): Promise<{ flags: ModelFlags; modelType?: ModelType }> {
  let json: any;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ConfigError('--config', `${path}: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError('--config', `${path}: expected a JSON object of flags`);
  const call = json.model_call ?? json.classifier_call;
  if (call && typeof call.kwargs === 'object') {
    // a fixture case.json: the recorded guided-diffusion call
    const fn = String(call.function ?? '');
    const modelType = TYPE_BY_FUNCTION.find(([re]) => re.test(fn))?.[1];
    if (/UNetModel$|SuperResModel$/.test(fn)) {
      throw new ConfigError('--config', `${path} records a direct ${fn}(...) call; convert takes script_util flags (create_model / sr_create_model / create_classifier)`);
    }
    const flags: ModelFlags = { ...call.kwargs };
    const numClasses = call['script_util.NUM_CLASSES'];
    if (typeof numClasses === 'number') flags.num_classes = numClasses;
    return { flags, modelType };
  }
  const { model_type: mt, ...flags } = json;
  return { flags, modelType: mt };
}

export const command: CliCommand = {
  name: 'convert',
  async run(argv) {
    const dashes = argv.indexOf('--');
    const own = dashes >= 0 ? argv.slice(0, dashes) : argv;
    const extra = dashes >= 0 ? parseGuidedDiffusionFlags(argv.slice(dashes + 1)) : {};
    const { values, positionals } = parseFlags('convert', own, {
      preset: { type: 'string' },
      config: { type: 'string' },
      'model-type': { type: 'string' },
      prefix: { type: 'string' },
      'non-strict': { type: 'boolean' },
      force: { type: 'boolean' },
      'list-presets': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (values['list-presets']) {
      for (const [name, p] of Object.entries(PRESETS)) console.log(`${name.padEnd(18)} ${p.modelType.padEnd(10)} ${p.description}`);
      return 0;
    }
    if (positionals.length !== 2) {
      throw new UsageError('<checkpoint> <out-folder>', `expected two arguments, got ${positionals.length} (adm convert --help)`);
    }
    const [input, outDir] = positionals;
    if (values.preset === undefined && values.config === undefined && dashes < 0) {
      throw new UsageError('--preset/--config', 'the architecture is not stored in a checkpoint: give --preset <name>, --config <file.json> or guided-diffusion flags after "--"');
    }
    const typeFlag = values['model-type'];
    if (typeFlag !== undefined && !['unet', 'superres', 'classifier'].includes(typeFlag)) {
      throw new ConfigError('--model-type', `expected unet, superres or classifier, got ${JSON.stringify(typeFlag)}`);
    }
    await checkPathFlag('<checkpoint>', input, 'file');
    let flags: ModelFlags = {};
    let modelType: ModelType | undefined;
    if (values.preset !== undefined) {
      let p: ReturnType<typeof getPreset>;
      try {
        p = getPreset(values.preset);
      } catch (e) {
        throw asFlagError('--preset', e);
      }
      flags = { ...p.flags };
      modelType = p.modelType;
    }
    if (values.config !== undefined) {
      const c = await configFlags(values.config);
      flags = { ...flags, ...c.flags };
      modelType = c.modelType ?? modelType;
    }
    flags = { ...flags, ...extra };
    const mt = (values['model-type'] ?? modelType ?? 'unet') as ModelType;
    if (!['unet', 'superres', 'classifier'].includes(mt)) throw new ConfigError('--model-type', `expected unet, superres or classifier, got ${JSON.stringify(mt)}`);

    if (!values.force) {
      const existing = await stat(`${outDir}/config.json`).catch(() => undefined);
      if (existing) throw new ConfigError(outDir, 'already holds a model folder (config.json); pass --force to replace it');
    }

    let tensors: Map<string, HostTensor>;
    if (/\.safetensors$/i.test(input)) {
      const f = await readSafetensorsFile(input);
      tensors = new Map(f.names().map((n) => [n, f.get(n)]));
    } else {
      tensors = await readTorchCheckpointFile(input);
    }
    if (values.prefix) {
      const p = values.prefix;
      tensors = new Map([...tensors].filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]));
      if (tensors.size === 0) throw new ConfigError('--prefix', `no tensor in ${input} starts with "${p}"`);
    }
    const model = createFromFlags(mt, flags, { init: 'zeros' });
    try {
      loadStateDict(model, tensors, input, { strict: !values['non-strict'] });
      await saveModelFolder(outDir, model, { ...flags, model_type: mt });
      let count = 0;
      for (const v of model.parameters().values()) count += v.size;
      console.log(`${input} -> ${outDir}: ${mt}, ${model.parameters().size} tensors, ${count.toLocaleString('en-US')} parameters`);
    } finally {
      model.dispose();
    }
    return 0;
  },
};

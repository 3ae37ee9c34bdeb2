// Type-checks as an ESM consumer (module nodenext): the packages' import types.
import { createContainer, pipelineModule, TOKENS, type SamplingPipeline, type PipelineConfig } from '@adm/core';
import { guidanceModule } from '@adm/guidance';
import { mnistDenoiser, type ModelFiles } from '@adm/models-mnist';
import { samplersModule } from '@adm/samplers';
import { schedulesModule } from '@adm/schedules';
import { loadModel, unetModule, type LoadedModel } from '@adm/unet';
import { frechetDistance } from '@adm/eval';

export const files: ModelFiles = mnistDenoiser;
export const pipeline: SamplingPipeline = createContainer(pipelineModule, schedulesModule, samplersModule, guidanceModule, unetModule).get<SamplingPipeline>(TOKENS.SamplingPipeline);
export const config: PipelineConfig = { respacing: 'ddim4', sampler: { name: 'ddim' }, diffusion: {}, guidance: [], clip_denoised: true, batch_size: 1, num_samples: 1, seed: 0, preview_every: 0 };
export const load: (source: ModelFiles) => Promise<LoadedModel> = (source) => loadModel(source);
export const fd: typeof frechetDistance = frechetDistance;

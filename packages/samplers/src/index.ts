// @adm/samplers: DDPM ancestral, DDIM(eta) and DPM-Solver++(2M), as small steps over
// core's diffusion process and a (guided) prediction callback.
export { DdpmSampler } from './ddpm-sampler.js';
export { DdimSampler } from './ddim-sampler.js';
export { DpmSolverPP2MSampler } from './dpm-solver-pp-sampler.js';
export { SAMPLER_FACTORIES, ddpmSamplerFactory, ddimSamplerFactory, dpmSolverPPSamplerFactory } from './sampler-factories.js';
export { samplersModule, samplersModuleOf } from './samplers-module.js';

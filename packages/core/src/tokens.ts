// DI tokens (inversify service identifiers). Each package's ContainerModule binds its
// implementations to these; pipelines resolve them.
export const TOKENS = {
  NoiseScheduleFactory: Symbol.for('adm.NoiseScheduleFactory'),
  /** Sampler factories keyed by name: bound with `.whenNamed(name)` or as a registry. */
  SamplerRegistry: Symbol.for('adm.SamplerRegistry'),
  GuidanceRegistry: Symbol.for('adm.GuidanceRegistry'),
  /** Loads a model folder (config.json + model.safetensors) into a Denoiser. */
  DenoiserLoader: Symbol.for('adm.DenoiserLoader'),
  ClassifierLoader: Symbol.for('adm.ClassifierLoader'),
  RandomSourceFactory: Symbol.for('adm.RandomSourceFactory'),
  SamplingPipeline: Symbol.for('adm.SamplingPipeline'),
  MetricRegistry: Symbol.for('adm.MetricRegistry'),
} as const;

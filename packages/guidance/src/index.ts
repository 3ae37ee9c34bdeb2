// @adm/guidance: classifier guidance (mean-shift and score forms) and classifier-free
// guidance, as terms that compose in a sampling run.
export { type ClassifierGradientFn, classifierGradientFn } from './classifier-gradient.js';
export { conditionMean } from './condition-mean.js';
export { conditionScore } from './condition-score.js';
export { ClassifierGuidance, type ClassifierGuidanceOptions } from './classifier-guidance.js';
export { ClassifierFreeGuidance, type ClassifierFreeGuidanceOptions } from './classifier-free-guidance.js';
export { parseGuidanceScale } from './guidance-scale.js';
export { GUIDANCE_FACTORIES, classifierGuidanceFactory, classifierFreeGuidanceFactory } from './guidance-factories.js';
export { guidanceModule, guidanceModuleOf } from './guidance-module.js';

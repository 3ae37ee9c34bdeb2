// Kind `ddpm_guided`: the same general guided-sampling check as `ddim_guided` (the recorded
// call in case.json selects p_sample_loop and Algorithm 1, the mean shift).
export { runGuidedSampling as run, tolerances } from './ddim-guided.js';

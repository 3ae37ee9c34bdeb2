// @adm/schedules: beta schedules (linear, cosine) and timestep respacing, as guided-diffusion
// computes them (float64), behind core's NoiseSchedule / NoiseScheduleFactory contracts.
export { linearBetas } from './linear-schedule.js';
export { cosineBetas, cosineAlphaBar, betasForAlphaBar } from './cosine-schedule.js';
export { accurateCos } from './accurate-cos.js';
export { spaceTimesteps } from './space-timesteps.js';
export { BetaSchedule, cumprodOneMinus } from './beta-schedule.js';
export { NamedScheduleFactory, BETA_FUNCTIONS, scheduleFactory } from './schedule-factory.js';
export { schedulesModule } from './schedules-module.js';

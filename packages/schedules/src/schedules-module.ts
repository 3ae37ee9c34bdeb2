import { TOKENS } from '@adm/core';
import { ContainerModule } from 'inversify';
import { scheduleFactory } from './schedule-factory.js';

/** Binds the named-schedule factory to TOKENS.NoiseScheduleFactory. */
export const schedulesModule = new ContainerModule((options) => {
  options.bind(TOKENS.NoiseScheduleFactory).toConstantValue(scheduleFactory);
});

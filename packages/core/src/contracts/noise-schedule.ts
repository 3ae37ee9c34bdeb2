/**
 * A noise schedule over T (possibly respaced) steps. Arrays are float64; they are cast to
 * float32 only when gathered for a batch (MATH.md, "Noise schedules").
 */
export interface NoiseSchedule {
  /** e.g. "linear", "cosine". */
  readonly name: string;
  /** Number of steps of THIS schedule (after respacing). */
  readonly numTimesteps: number;
  /** Steps of the schedule this one was derived from (1000 for guided-diffusion's). */
  readonly originalNumSteps: number;
  /** betas of this schedule, float64, length numTimesteps. */
  readonly betas: Float64Array;
  /** New index -> original step index (identity when not respaced). */
  readonly timestepMap: Int32Array;
  /** Keep a subset of steps ("ddim25", "250", "10,15,20") with the same alphas_cumprod. */
  respace(spec: string): NoiseSchedule;
}

/** Builds a base schedule by name (linear, cosine, ...) for a number of steps. */
export interface NoiseScheduleFactory {
  create(name: string, numSteps: number): NoiseSchedule;
  /** Names this factory knows. */
  readonly names: readonly string[];
}

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
  /** Cumulative product of (1 - betas), float64, length numTimesteps. */
  readonly alphasCumprod: Float64Array;
  /** New index -> original step index (identity when not respaced), ascending. */
  readonly timestepMap: Int32Array;
  /**
   * Keep a subset of steps with the same alphas_cumprod, as guided-diffusion's
   * space_timesteps + SpacedDiffusion do: "ddimN", "250", "10,15,20", or "" (all steps;
   * betas are still re-derived from alphas_cumprod, as SpacedDiffusion always does).
   * Throws ConfigError when the spec cannot be met.
   */
  respace(spec: string): NoiseSchedule;
}

/** Builds a base schedule by name (linear, cosine, ...) for a number of steps. */
export interface NoiseScheduleFactory {
  /** Throws ConfigError for an unknown name or a step count that is not a positive integer. */
  create(name: string, numSteps: number): NoiseSchedule;
  /** Names this factory knows. */
  readonly names: readonly string[];
}

/**
 * Seeded random source, injectable wherever randomness is used so runs reproduce and
 * tests can feed recorded noise (e.g. guided-diffusion's DDPM noise in call order).
 */
export interface RandomSource {
  /** Uniform floats in [0, 1). */
  uniform(size: number): Float32Array;
  /** Standard normal floats. `shape` is informational (recorded-noise sources check it). */
  normal(size: number, shape?: readonly number[]): Float32Array;
  /** A uniform integer in [0, n). */
  int(n: number): number;
}

/**
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32; normals by Box-Muller.
 * Pure JS so the same seed gives the same numbers in Node and in the browser.
 */
export class SeededRandom implements RandomSource {
  private s = new Uint32Array(4);
  private spare: number | undefined;

  constructor(readonly seed: number = 0) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next uint32. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Next float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  uniform(size: number): Float32Array {
    const out = new Float32Array(size);
    // 24 random bits: exactly representable in float32, so never rounds up to 1.
    for (let i = 0; i < size; i++) out[i] = (this.nextU32() >>> 8) / 16777216;
    return out;
  }

  normal(size: number): Float32Array {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = this.gaussian();
    return out;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  private gaussian(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Replays recorded draws in call order (e.g. guided-diffusion's `in.noise[k]`), failing
 * loudly when a draw's size differs from the recording or the recording runs out.
 */
export class RecordedRandom implements RandomSource {
  private next = 0;
  constructor(
    private readonly draws: Float32Array[],
    private readonly fallback: RandomSource = new SeededRandom(0),
  ) {}
  normal(size: number): Float32Array {
    if (this.next >= this.draws.length) {
      throw new Error(`RecordedRandom: draw ${this.next} requested but only ${this.draws.length} were recorded`);
    }
    const d = this.draws[this.next++];
    if (d.length !== size) {
      throw new Error(`RecordedRandom: draw ${this.next - 1} has ${d.length} values, ${size} requested`);
    }
    return d;
  }
  uniform(size: number): Float32Array {
    return this.fallback.uniform(size);
  }
  int(n: number): number {
    return this.fallback.int(n);
  }
  get consumed(): number {
    return this.next;
  }
}

import { ConfigError } from '@adm/core';
import { describe, expect, it } from 'vitest';
import { spaceTimesteps } from './space-timesteps.js';

const range = (start: number, stop: number, step = 1) => Array.from({ length: Math.ceil((stop - start) / step) }, (_, i) => start + i * step);

describe('spaceTimesteps', () => {
  it('"" and the full count keep every step', () => {
    expect(spaceTimesteps(1000, '')).toEqual(range(0, 1000));
    expect(spaceTimesteps(1000, '1000')).toEqual(range(0, 1000));
    expect(spaceTimesteps(4000, [4000])).toEqual(range(0, 4000));
  });

  it('"ddimN" takes range(0, T, stride) with exactly N elements', () => {
    expect(spaceTimesteps(1000, 'ddim50')).toEqual(range(0, 1000, 20));
    expect(spaceTimesteps(1000, 'ddim10')).toEqual(range(0, 1000, 100));
    expect(spaceTimesteps(1000, 'ddim1000')).toEqual(range(0, 1000));
    // stride 3 gives ceil(1000 / 3) = 334 steps
    expect(spaceTimesteps(1000, 'ddim334')).toEqual(range(0, 1000, 3));
  });

  it('splits into equal sections, the first T % n one step longer (docstring example)', () => {
    // 300 steps, [10, 15, 20]: sections 0..99, 100..199, 200..299, each starting and ending at its edges.
    const s = spaceTimesteps(300, '10,15,20');
    expect(s.length).toBe(45);
    expect(s.slice(0, 10)).toEqual(range(0, 100, 11));
    expect(s[10]).toBe(100);
    expect(s[24]).toBe(199);
    expect(s[25]).toBe(200);
    expect(s[44]).toBe(299);
    // A single step per section is the section start; 10 steps of 10 sections: 0, 100, ...
    expect(spaceTimesteps(1000, '1,1,1,1,1,1,1,1,1,1')).toEqual(range(0, 1000, 100));
    // 1001 = 3 * 333 + 2: section sizes 334, 334, 333
    expect(spaceTimesteps(1001, '2,2,2')).toEqual([0, 333, 334, 667, 668, 1000]);
  });

  it('rounds an exact .5 to even as Python does', () => {
    // one section of 4 steps taking 3: stride 1.5 -> round(0), round(1.5) = 2, round(3.0) = 3
    expect(spaceTimesteps(4, '3')).toEqual([0, 2, 3]);
    // stride 2.5 over 6 steps taking 3: 0, round(2.5) = 2, 5
    expect(spaceTimesteps(6, '3')).toEqual([0, 2, 5]);
  });

  it('rejects specs that cannot be met, naming the field and the fix', () => {
    // strides 26 and 27 give 39 and 38 steps, 28 gives 36: no stride gives 37
    expect(() => spaceTimesteps(1000, 'ddim37')).toThrow(ConfigError);
    expect(() => spaceTimesteps(1000, 'ddim37')).toThrow(/timestep_respacing.*"ddim37".*exactly 37 of 1000.*nearest possible: ddim36, ddim38/);
    expect(() => spaceTimesteps(1000, 'ddim600')).toThrow(/exactly 600 of 1000/);
    expect(() => spaceTimesteps(1000, 'ddim1')).toThrow(ConfigError);
    expect(() => spaceTimesteps(1000, 'ddim')).toThrow(/is not a step count/);
    expect(() => spaceTimesteps(1000, '600,10')).toThrow(/section 0 .* has 500 steps, cannot take 600/);
    expect(() => spaceTimesteps(10, '11')).toThrow(/has 10 steps, cannot take 11/);
    expect(() => spaceTimesteps(1000, '10,abc')).toThrow(/"abc" is not a step count/);
    expect(() => spaceTimesteps(1000, '-5')).toThrow(ConfigError);
    expect(() => spaceTimesteps(1000, '0')).toThrow(/keeps no steps/);
    expect(() => spaceTimesteps(0, '')).toThrow(/positive integer/);
  });
});

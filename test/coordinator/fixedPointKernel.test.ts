import { describe, expect, it } from 'vitest';
import { createFixedPointKernel } from '../../src/coordinator/aggregation/fixedPointKernel.js';
import { FIXED_POINT_KERNEL_WASM_BASE64 } from '../../src/coordinator/aggregation/fixedPointKernelWasm.js';
import { SumRangeError, type SumKernel } from '../../src/coordinator/aggregation/sumKernel.js';
import { AggregationError, StreamingMean } from '../../src/coordinator/aggregation/streamingMean.js';
import { assembleKernel } from '../../scripts/assembleKernel.js';
import { bits, magnitudeValues } from '../helpers/magnitudeValues.js';

const values = (n: number, seed: number): Float32Array => magnitudeValues(n, seed, -5, 7);

interface Update {
  readonly values: Float32Array;
  readonly weight: number;
}

/** Stages, checks and adds each update in `order`; returns copies of the float64 sum and the float32 mean. */
function run(kernel: SumKernel, updates: readonly Update[], order = updates.map((_, k) => k)): { sum: Float64Array; mean: Float32Array } {
  let total = 0;
  for (const k of order) {
    const slot = kernel.slots[1]!;
    slot.set(updates[k]!.values);
    expect(kernel.accepts(slot, updates[k]!.weight)).toBe(true);
    kernel.add(slot, updates[k]!.weight);
    total += updates[k]!.weight;
  }
  const sum = Float64Array.from(kernel.finish(kernel.slots[0]!, total));
  return { sum, mean: Float32Array.from(kernel.slots[0]!) };
}

describe('fixed-point kernel', () => {
  it('ships the bytes that fixedPointKernel.wat assembles to (rerun scripts/assembleKernel.ts after editing the .wat)', async () => {
    const assembled = await assembleKernel('fixedPoint');
    expect(Buffer.from(assembled).toString('base64')).toBe(FIXED_POINT_KERNEL_WASM_BASE64);
  });

  // Weights up to 5000 put w x 2^40 past 2^51: the general loop; weights up to 20 keep it below: the one-add loop.
  it.each([
    ['general', 5000],
    ['small-term', 20],
  ])('sums exactly to the 2^-40 grid at 100k+ parameters (%s loop): SIMD and the JavaScript reference agree bit for bit, in any order', (_loop, maxWeight) => {
    // 100,003: the SIMD loops take multiples of 16 and 4, so every remainder path runs too.
    const size = 100_003;
    const updates = Array.from({ length: 9 }, (_, k) => ({ values: values(size, k + 11), weight: 1 + ((k * 7919) % maxWeight) }));
    const simd = createFixedPointKernel(size, 2, 40);
    const js = createFixedPointKernel(size, 2, 40, 'js');
    expect(simd.kind).toBe('fixed-point wasm-simd');
    expect(js.kind).toBe('fixed-point js');
    const a = run(simd, updates);
    const b = run(js, updates, [8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(bits(a.sum).equals(bits(b.sum))).toBe(true);
    expect(bits(a.mean).equals(bits(b.mean))).toBe(true);
    // Against the exact sum, in units of 2^-90 (w x is exact in float64 and a multiple of 2^-90 here): each of the 9
    // terms is rounded by at most half a 2^-40 unit (2^49 units), and the float64 sum by 2^-53 of itself.
    let worst = 0;
    for (let i = 0; i < size; i++) {
      let exact = 0n;
      for (const u of updates) exact += BigInt(u.weight * u.values[i]! * 2 ** 90);
      const got = BigInt(a.sum[i]! * 2 ** 90);
      const error = got > exact ? got - exact : exact - got;
      const bound = 9n * 2n ** 49n + (exact < 0n ? -exact : exact) / 2n ** 53n + 1n;
      expect(error <= bound).toBe(true);
      worst = Math.max(worst, Number(error) / Number(bound));
    }
    // ...and the rounding did happen (the data has values off the grid), so the bound is what was tested.
    expect(worst).toBeGreaterThan(0);
  });

  it('rounds ties to even in both kernels', () => {
    // weight 1, x = k/2 grid units: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2 (four of each for the SIMD lanes).
    const halves = [0.5, 1.5, 2.5, -0.5, -1.5];
    const x = Float32Array.from(halves.flatMap((h) => [h, h, h, h]).map((h) => h * 2 ** -40));
    for (const kind of ['wasm-simd', 'js'] as const) {
      const kernel = createFixedPointKernel(x.length, 2, 40, kind);
      const { sum } = run(kernel, [{ values: x, weight: 1 }]);
      expect(Array.from(sum, (v) => v * 2 ** 40)).toEqual([0, 2, 2, 0, -2].flatMap((v) => [v, v, v, v]));
    }
  });

  it('refuses a value whose weighted term is beyond 2^(62-F), NaN and infinities, before the sum', () => {
    for (const kind of ['wasm-simd', 'js'] as const) {
      const kernel = createFixedPointKernel(32, 1, 40, kind);
      const slot = kernel.slots[0]!;
      const limit = kernel.limit(100);
      expect(limit).toBeLessThan(2 ** 22 / 100);
      expect(limit).toBeGreaterThan((2 ** 22 / 100) * (1 - 2 ** -23));
      slot.fill(1);
      expect(kernel.accepts(slot, 100)).toBe(true);
      for (const bad of [limit * 1.0001, -limit * 1.0001, NaN, Infinity, -Infinity]) {
        for (const at of [0, 17, 31]) {
          slot.fill(1);
          slot[at] = bad;
          expect(kernel.accepts(slot, 100)).toBe(false);
        }
      }
      // The limit itself is refused, the float32 just below it taken.
      slot.fill(limit);
      expect(kernel.accepts(slot, 100)).toBe(false);
      slot.fill(Math.fround(limit * (1 - 2 ** -24)));
      expect(kernel.accepts(slot, 100)).toBe(true);
    }
  });

  it('fails the round instead of wrapping when a sum leaves +-2^(63-F), whatever the kernel', () => {
    for (const kind of ['wasm-simd', 'js'] as const) {
      const kernel = createFixedPointKernel(8, 1, 40, kind);
      const slot = kernel.slots[0]!;
      // Each term (3e6) is in range; three of them (9e6) are past 2^23 = 8,388,608.
      slot.fill(3e6);
      slot[5] = -3e6;
      for (let k = 0; k < 3; k++) {
        expect(kernel.accepts(slot, 1)).toBe(true);
        kernel.add(slot, 1);
      }
      expect(() => kernel.finish(new Float32Array(8), 3)).toThrow(SumRangeError);
      expect(() => kernel.finish(new Float32Array(8), 3)).toThrow(/left the fixed-point range of \+-2\^23 \(grid 2\^-40\): lower fractionBits/);
      // A fresh round after reset sums normally again.
      kernel.reset();
      slot.fill(2);
      kernel.add(slot, 1);
      const out = new Float32Array(8);
      expect(Array.from(kernel.finish(out, 2))).toEqual(Array(8).fill(2));
      expect(Array.from(out)).toEqual(Array(8).fill(1));
    }
  });
});

describe('StreamingMean on the fixed-point sum', () => {
  const spec = [{ name: 'w', shape: [100_000] }];

  it('refuses an out-of-range update naming the parameter and the fix, and the others still make the exact mean', async () => {
    const mean = new StreamingMean();
    mean.bind(spec);
    const round = mean.begin(1);
    const good = await round.accept('good', 10);
    good.write(0, new Float32Array(100_000).fill(0.5));
    good.commit();
    const bad = await round.accept('bad', 1000);
    const values = new Float32Array(100_000).fill(0.25);
    values[70_001] = 2e6; // 2e6 x 1000 = 2e9 > 2^30, the default range of a weighted value
    expect(() => bad.write(0, values)).toThrow(AggregationError);
    const again = await round.accept('bad-again', 1000);
    expect(() => again.write(0, values)).toThrow(/update value 2000000 at parameter 70001 times its weight 1000 leaves the fixed-point range .*fractionBits/);
    const result = round.finish();
    expect(result.contributors).toEqual(['good']);
    expect(result.mean!.every((v) => v === 0.5)).toBe(true);
  });

  it('fails finish() with an AggregationError when a parameter sum leaves the range', async () => {
    const mean = new StreamingMean();
    mean.bind([{ name: 'w', shape: [4] }]);
    const round = mean.begin(3);
    for (const c of ['a', 'b', 'c']) {
      const sink = await round.accept(c, 1);
      sink.write(0, Float32Array.from([1, 8e8, 1, 1])); // three of them (2.4e9) pass 2^31, the default range of a sum
      sink.commit();
    }
    expect(() => round.finish()).toThrow(/round 3: a parameter's weighted sum left the fixed-point range/);
  });

  it('takes a wider range with fewer fraction bits', async () => {
    const mean = new StreamingMean({ fractionBits: 20 });
    mean.bind([{ name: 'w', shape: [4] }]);
    const round = mean.begin(1);
    for (const c of ['a', 'b', 'c']) {
      const sink = await round.accept(c, 1);
      sink.write(0, Float32Array.from([1, 8e8, 1, 1]));
      sink.commit();
    }
    const result = round.finish();
    expect(Array.from(result.mean!)).toEqual([1, 8e8, 1, 1]);
    expect(result.sumGrid).toBe(2 ** -20);
    expect(() => new StreamingMean({ fractionBits: 61 })).toThrow(/fractionBits must be an integer from 0 to 60, got 61/);
  });
});

/**
 * `n` values of both signs spread over `decades` powers of ten from 10^`lowest` (xorshift32, deterministic per
 * seed): where the order of floating-point rounding shows.
 */
export function magnitudeValues(n: number, seed: number, lowest: number, decades: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * 10 ** Math.floor(next() * decades + lowest);
  return out;
}

/** The bytes of a typed array, to compare results bit for bit. */
export const bits = (a: Float32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Values of Z_(2^bits) packed at `bits` bits each, for SecAgg+ uploads: value i occupies bits i x bits to
 * (i + 1) x bits - 1 of the byte string, least significant bit first (little-endian, so at 8, 16, 24 and 32
 * bits the layout is plain little-endian integers). The bits above the last value in the last byte are zero.
 * Only the low `bits` bits of each input word are packed: packing reduces mod 2^bits.
 */

/** Bytes that `count` values take at `bits` bits each: ceil(count x bits / 8). */
export function packedLength(count: number, bits: number): number {
  checkBits(bits);
  if (!(Number.isSafeInteger(count) && count >= 0)) throw new Error(`a packed length needs a count of values >= 0, got ${count}`);
  return Math.ceil((count * bits) / 8);
}

function checkBits(bits: number): void {
  if (!(Number.isInteger(bits) && bits >= 1 && bits <= 32)) throw new Error(`values pack at 1 to 32 bits each, got ${bits}`);
}

/** The low `bits` bits of every value, packed. */
export function packBits(values: Uint32Array, bits: number): Uint8Array {
  const out = new Uint8Array(packedLength(values.length, bits));
  if (bits % 8 === 0) {
    // Whole bytes: each value's low bits/8 bytes, little-endian, with no bit shuffling across values.
    const width = bits / 8;
    for (let i = 0, at = 0; i < values.length; i++) {
      const v = values[i]!;
      out[at++] = v;
      if (width > 1) out[at++] = v >>> 8;
      if (width > 2) out[at++] = v >>> 16;
      if (width > 3) out[at++] = v >>> 24;
    }
    return out;
  }
  if (bits <= 24) {
    // Under 8 pending bits plus one value fit in 31 bits: integer shifts.
    const mask = 2 ** bits - 1;
    let acc = 0;
    let pending = 0;
    let at = 0;
    for (let i = 0; i < values.length; i++) {
      acc |= (values[i]! & mask) << pending;
      pending += bits;
      while (pending >= 8) {
        out[at++] = acc;
        acc >>>= 8;
        pending -= 8;
      }
    }
    if (pending > 0) out[at] = acc;
    return out;
  }
  // 25 to 31 bits: the accumulator (under 8 + 31 bits) in a float64, exact up to 2^53.
  const modulus = 2 ** bits;
  let acc = 0;
  let pending = 0;
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    acc += (values[i]! % modulus) * 2 ** pending;
    pending += bits;
    while (pending >= 8) {
      const low = acc % 256;
      out[at++] = low;
      acc = (acc - low) / 256;
      pending -= 8;
    }
  }
  if (pending > 0) out[at] = acc;
  return out;
}

/**
 * Adds the `count` values packed in `packed` onto `target` elementwise mod 2^32 (a sum of them reduced mod
 * 2^bits later is their sum in Z_(2^bits)). Throws naming the expected length, or when the padding bits of the
 * last byte are not zero (a second encoding of the same values would be accepted otherwise).
 */
export function addPacked(target: Uint32Array, packed: Uint8Array, bits: number): void {
  const expected = packedLength(target.length, bits);
  if (packed.length !== expected) throw new Error(`${target.length} values at ${bits} bits pack into ${expected} bytes, got ${packed.length}`);
  const spare = expected * 8 - target.length * bits;
  if (spare > 0 && packed[expected - 1]! >>> (8 - spare) !== 0) throw new Error(`the last ${spare} padding bits of the packed values are not zero`);
  if (bits % 8 === 0) {
    const width = bits / 8;
    for (let i = 0, at = 0; i < target.length; i++, at += width) {
      let v = packed[at]!;
      if (width > 1) v |= packed[at + 1]! << 8;
      if (width > 2) v |= packed[at + 2]! << 16;
      if (width > 3) v += packed[at + 3]! * 16_777_216;
      target[i] = (target[i]! + v) >>> 0;
    }
    return;
  }
  if (bits <= 24) {
    const mask = 2 ** bits - 1;
    let acc = 0;
    let pending = 0;
    let at = 0;
    for (let i = 0; i < target.length; i++) {
      while (pending < bits) {
        acc |= packed[at++]! << pending;
        pending += 8;
      }
      target[i] = (target[i]! + (acc & mask)) >>> 0;
      acc >>>= bits;
      pending -= bits;
    }
    return;
  }
  const modulus = 2 ** bits;
  let acc = 0;
  let pending = 0;
  let at = 0;
  for (let i = 0; i < target.length; i++) {
    while (pending < bits) {
      acc += packed[at++]! * 2 ** pending;
      pending += 8;
    }
    const v = acc % modulus;
    acc = (acc - v) / modulus;
    pending -= bits;
    target[i] = (target[i]! + v) >>> 0;
  }
}

/** The `count` values packed in `packed` (a fresh array; for checks and tests: the coordinator adds in place). */
export function unpackBits(packed: Uint8Array, count: number, bits: number): Uint32Array {
  const out = new Uint32Array(count);
  addPacked(out, packed, bits);
  return out;
}

/** Every value of `values` reduced mod 2^bits, in place. */
export function reduceMod(values: Uint32Array, bits: number): void {
  checkBits(bits);
  if (bits === 32) return;
  const mask = (2 ** bits - 1) >>> 0;
  for (let i = 0; i < values.length; i++) values[i] = values[i]! & mask;
}

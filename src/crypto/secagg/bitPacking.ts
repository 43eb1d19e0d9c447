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
  // Into 32-bit words (little-endian, as the bytes are read back), a value spilling into the next word when it
  // crosses a boundary; integer shifts only. (A byte-wise path for 8, 16 and 24 bits measured no faster.)
  const words = new Uint32Array(Math.ceil(out.length / 4));
  const mask = 2 ** bits - 1;
  let word = 0;
  let offset = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]! & mask;
    words[word]! |= v << offset;
    if (offset + bits > 32) words[word + 1] = v >>> (32 - offset);
    offset += bits;
    if (offset >= 32) (word++, (offset -= 32));
  }
  out.set(new Uint8Array(words.buffer, 0, out.length));
  return out;
}

/** Throws unless `packed` is `count` values at `bits` bits as packBits writes them: its length, zero padding. */
export function checkPacked(packed: Uint8Array, count: number, bits: number): void {
  const expected = packedLength(count, bits);
  if (packed.length !== expected) throw new Error(`${count} values at ${bits} bits pack into ${expected} bytes, got ${packed.length}`);
  const spare = expected * 8 - count * bits;
  if (spare > 0 && packed[expected - 1]! >>> (8 - spare) !== 0) throw new Error(`the last ${spare} padding bits of the packed values are not zero`);
}

/**
 * Adds the `count` values packed in `packed` onto `target` elementwise mod 2^32 (a sum of them reduced mod
 * 2^bits later is their sum in Z_(2^bits)). Throws naming the expected length, or when the padding bits of the
 * last byte are not zero (a second encoding of the same values would be accepted otherwise).
 */
export function addPacked(target: Uint32Array, packed: Uint8Array, bits: number): void {
  checkPacked(packed, target.length, bits);
  // 32-bit words (the bytes copied to an aligned, zero-padded buffer), read as packBits wrote them.
  const words = new Uint32Array(Math.ceil(packed.length / 4));
  new Uint8Array(words.buffer).set(packed);
  const mask = 2 ** bits - 1;
  let word = 0;
  let offset = 0;
  for (let i = 0; i < target.length; i++) {
    let v = words[word]! >>> offset;
    if (offset + bits > 32) v |= words[word + 1]! << (32 - offset);
    target[i] = (target[i]! + (v & mask)) >>> 0;
    offset += bits;
    if (offset >= 32) (word++, (offset -= 32));
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

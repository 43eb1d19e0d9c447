import { CkksError } from './ckksError.js';

/**
 * A sum of seeded ciphertexts, sent at the size of one seeded ciphertext. Every client encrypts with the
 * secret key, so its ciphertext is (c0_k, a_k) with a_k expanded from a 64-byte seed by SEAL's PRNG, and SEAL
 * serializes it as c0_k and the seed. The sum is (sum c0_k, sum a_k): sum a_k is as long as c0 and has no seed,
 * which is why a serialized sum is twice an upload. Instead, the coordinator sends sum c0_k once with every
 * contributor's seed record (81 bytes each), and a client rebuilds the sum with SEAL itself: it loads the
 * seeded ciphertext (sum c0_k, seed_1), which SEAL expands to (sum c0_k, a_1), then (0, seed_k) for every other
 * contributor, expanded to (0, a_k), and adds them. Nothing is computed outside SEAL: the bytes are SEAL's own
 * serialization of seeded ciphertexts (compression none), with c0 swapped for the sum's.
 *
 * Layout (integers u32 little-endian): "CSS2" | prefix length | c0 length | record length | record count |
 * prefix (SEAL header and ciphertext members of a seeded ciphertext) | sum c0 | records, sorted bytewise so the
 * payload does not depend on the order uploads arrived in. "CSS2" marks coefficient-encoded values
 * (coefficientEncoding.ts); "CSS1", the slot encoding before it, is refused (its values would decode wrong).
 */
const MAGIC = [0x43, 0x53, 0x53, 0x32]; // "CSS2"
const SLOT_ENCODED_MAGIC = [0x43, 0x53, 0x53, 0x31]; // "CSS1"
const HEADER = 20;
/** SEAL's serialization magic (0xA15E, little-endian) and where its header keeps the compression mode. */
const SEAL_MAGIC = [0x5e, 0xa1];
const SEAL_COMPR_MODE_OFFSET = 5;
const SEAL_SIZE_OFFSET = 8;

/** Where a seeded ciphertext's serialization (compression none) keeps its parts. */
export interface SeededLayout {
  readonly prefix: number;
  readonly c0: number;
  readonly record: number;
}

/** A seeded ciphertext's parts, from its serialization and the length of one polynomial (N x primes x 8 bytes). */
export function seededLayout(seeded: Uint8Array, unseededLength: number, polynomialBytes: number): SeededLayout {
  const prefix = unseededLength - 2 * polynomialBytes;
  const record = seeded.length - prefix - polynomialBytes;
  if (prefix <= 0 || record <= 0 || record > 1024) throw new CkksError(`a ${seeded.length}-byte ciphertext is not a seeded one of these parameters (uncompressed: ${prefix + polynomialBytes} bytes and a seed)`);
  checkRecord(seeded.subarray(seeded.length - record), record);
  return { prefix, c0: polynomialBytes, record };
}

/** Throws unless `bytes` is an uncompressed seeded ciphertext with this layout (what the sum can take apart). */
export function checkSeeded(bytes: Uint8Array, layout: SeededLayout): void {
  if (bytes.length !== layout.prefix + layout.c0 + layout.record) {
    throw new CkksError(`a seeded ciphertext of these parameters has ${layout.prefix + layout.c0 + layout.record} bytes uncompressed, got ${bytes.length}`);
  }
  if (bytes[SEAL_COMPR_MODE_OFFSET] !== 0) throw new CkksError('upload ciphertexts must be serialized uncompressed, so the sum can be sent seeded');
  checkRecord(bytes.subarray(bytes.length - layout.record), layout.record);
}

function checkRecord(record: Uint8Array, length: number): void {
  const size = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (record[0] !== SEAL_MAGIC[0] || record[1] !== SEAL_MAGIC[1] || length < 16 || Number(size.getBigUint64(SEAL_SIZE_OFFSET, true)) !== length) {
    throw new CkksError('the ciphertext does not end in a SEAL seed record: it is not a seeded ciphertext');
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Packs the sum's c0 with the contributors' seed records (and a seeded ciphertext's prefix to rebuild them). */
export function packSeededSum(layout: SeededLayout, prefix: Uint8Array, c0: Uint8Array, records: readonly Uint8Array[]): Uint8Array {
  if (records.length === 0) throw new CkksError('a seeded sum needs at least one contributor');
  const out = new Uint8Array(HEADER + layout.prefix + layout.c0 + records.length * layout.record);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, layout.prefix, true);
  view.setUint32(8, layout.c0, true);
  view.setUint32(12, layout.record, true);
  view.setUint32(16, records.length, true);
  out.set(prefix.subarray(0, layout.prefix), HEADER);
  out.set(c0.subarray(0, layout.c0), HEADER + layout.prefix);
  let at = HEADER + layout.prefix + layout.c0;
  for (const r of [...records].sort(compareBytes)) {
    if (r.length !== layout.record) throw new CkksError(`seed records have ${layout.record} bytes, got ${r.length}`);
    out.set(r, at);
    at += layout.record;
  }
  return out;
}

export function isSeededSum(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER && MAGIC.every((b, i) => bytes[i] === b);
}

/** Why `bytes` is not a sum this version decrypts, naming what to do about an older run's checkpoint. */
export function notSeededSum(bytes: Uint8Array): string {
  const older = 'an encrypted checkpoint written by a Cohort before coefficient encoding: resume that run with the version that wrote it, or start a new run';
  if (bytes.length >= HEADER && SLOT_ENCODED_MAGIC.every((b, i) => bytes[i] === b)) return `the sum is slot encoded ("CSS1"), ${older}`;
  if (bytes[0] === 0x5e && bytes[1] === 0xa1) return `the sum is a whole SEAL ciphertext, not a seeded sum ("CSS2"): ${older}`;
  return 'not a seeded sum (bad magic; expected "CSS2")';
}

/**
 * The seeded ciphertexts whose sum the packed bytes stand for: the first carries the sum's c0, the others
 * zeros, each with one contributor's seed. Throws on a malformed or truncated packing.
 */
export function* seededParts(packed: Uint8Array): Generator<Uint8Array> {
  if (!isSeededSum(packed)) throw new CkksError(notSeededSum(packed));
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const prefix = view.getUint32(4, true);
  const c0 = view.getUint32(8, true);
  const record = view.getUint32(12, true);
  const count = view.getUint32(16, true);
  if (count < 1 || packed.length !== HEADER + prefix + c0 + count * record) throw new CkksError(`a seeded sum of ${count} records must have ${HEADER + prefix + c0 + count * record} bytes, got ${packed.length}`);
  const records = HEADER + prefix + c0;
  const part = new Uint8Array(prefix + c0 + record);
  part.set(packed.subarray(HEADER, records), 0);
  for (let k = 0; k < count; k++) {
    // After the first part, c0 is zero: (0, a_k) adds only contributor k's expanded seed.
    if (k === 1) part.fill(0, prefix, prefix + c0);
    part.set(packed.subarray(records + k * record, records + (k + 1) * record), prefix + c0);
    yield part;
  }
}

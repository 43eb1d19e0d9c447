import { createCipheriv, type Cipher } from 'node:crypto';

/** A mask seed is an AES-256 key: 32 bytes from HKDF (pairwise) or the CSPRNG (self-mask). */
export const MASK_SEED_BYTES = 32;

/**
 * A mask as a stream of uint32 words: the AES-256-CTR keystream under `seed` (a counter from zero; every seed
 * is used for one mask only, being fresh per round and pair). A real stream cipher, so a mask reveals nothing
 * of its seed or of the rest of the stream (Flower's Mersenne Twister does: flower #7522). Read in order, in any
 * chunk sizes: the chunks concatenate to the same mask, so a coordinator can unmask while it streams.
 */
/**
 * The plaintext the keystream is XORed onto: zeros, shared by every stream and never written (a fresh buffer per
 * call would cost page faults on every expansion), grown to the largest request.
 */
let zeros = Buffer.alloc(0);

export class MaskStream {
  private readonly cipher: Cipher;

  constructor(seed: Uint8Array) {
    if (seed.length !== MASK_SEED_BYTES) throw new Error(`a mask seed is ${MASK_SEED_BYTES} bytes, got ${seed.length}`);
    this.cipher = createCipheriv('aes-256-ctr', seed, Buffer.alloc(16));
  }

  /** The next `count` words of the mask. */
  next(count: number): Uint32Array {
    const bytes = 4 * count;
    if (zeros.length < bytes) zeros = Buffer.alloc(bytes);
    const out = this.cipher.update(zeros.subarray(0, bytes));
    // A small Buffer may sit in Node's pool at an offset that is not a multiple of 4: copy it then.
    return out.byteOffset % 4 === 0 ? new Uint32Array(out.buffer, out.byteOffset, count) : new Uint32Array(new Uint8Array(out).buffer);
  }
}

/** The whole mask of `length` words under `seed`. */
export function expandMask(seed: Uint8Array, length: number): Uint32Array {
  return new MaskStream(seed).next(length);
}

/** target += sign x mask, elementwise mod 2^32 (sign +1 or -1). */
export function addMask(target: Uint32Array, mask: Uint32Array, sign: 1 | -1, offset = 0): void {
  if (sign === 1) for (let i = 0; i < mask.length; i++) target[offset + i] = (target[offset + i]! + mask[i]!) >>> 0;
  else for (let i = 0; i < mask.length; i++) target[offset + i] = (target[offset + i]! - mask[i]!) >>> 0;
}

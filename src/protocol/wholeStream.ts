import { createHash, timingSafeEqual } from 'node:crypto';
import { TransferError, type StreamTrailer } from './peerOptions.js';

/**
 * A stream small enough to travel as one message (`stream:whole`): header, bytes and trailer together, answered
 * by one acknowledgement. The receiver runs every check the stepped path runs (header, limits, size, hash), and
 * reaches the stream's handler only with bytes that match their hash.
 */

/** The event that carries a whole stream: `(header & trailer, bytes)`, or `(header & trailer)` when it is empty. */
export const WHOLE_STREAM_EVENT = 'stream:whole';

/** The bytes of an empty whole stream, sent without a bytes argument (socket.io would add a frame for it). */
export const NO_BYTES: Uint8Array = new Uint8Array(0);

/** The largest stream that travels whole under these options: one chunk, and no more than wholeStreamBytes. */
export function wholeStreamLimit(options: { readonly chunkBytes: number; readonly wholeStreamBytes: number }): number {
  return Math.min(options.chunkBytes, options.wholeStreamBytes);
}

/** Gathers a small stream's chunks into one buffer, checking it produces exactly what it announced. */
export async function gatherWhole(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, totalBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let produced = 0;
  for await (const chunk of chunks) {
    produced += chunk.length;
    if (produced > totalBytes) break;
    parts.push(chunk);
  }
  if (produced !== totalBytes) throw new TransferError(`stream announced ${totalBytes} bytes but produced ${produced > totalBytes ? 'more' : produced}`);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** The SHA-256 (hex) of bytes held whole. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Checks the bytes and trailer of a whole stream whose header already passed (streamHeader.ts): binary, within
 * the receiver's limit for whole streams, exactly the announced size, and hashing to the stated SHA-256
 * (compared in constant time). Returns the trailer to hand the sink, or the problem to refuse with.
 */
export function checkWhole(
  bytes: unknown,
  stated: { readonly totalBytes: number; readonly sha256: unknown; readonly signature: unknown },
  limit: number,
): { readonly ok: true; readonly bytes: Uint8Array; readonly trailer: StreamTrailer } | { readonly ok: false; readonly problem: string } {
  if (stated.totalBytes > limit) return { ok: false, problem: `a stream sent whole may carry at most ${limit} bytes, this one announced ${stated.totalBytes}: send it in chunks` };
  if (!(bytes instanceof Uint8Array)) return { ok: false, problem: 'the bytes of a stream sent whole are not binary' };
  if (bytes.length !== stated.totalBytes) return { ok: false, problem: `stream carries ${bytes.length} bytes but announced ${stated.totalBytes}` };
  const actual = createHash('sha256').update(bytes).digest();
  const claimed = typeof stated.sha256 === 'string' && /^[0-9a-f]{64}$/.test(stated.sha256) ? Buffer.from(stated.sha256, 'hex') : undefined;
  if (!claimed || !timingSafeEqual(claimed, actual)) return { ok: false, problem: "SHA-256 of the received bytes does not match the sender's" };
  const signature = typeof stated.signature === 'string' && stated.signature.length <= 256 ? stated.signature : undefined;
  return { ok: true, bytes, trailer: { sha256: actual.toString('hex'), ...(signature ? { signature } : {}) } };
}

import { z } from 'zod';

/** A checkpointed strategy state that cannot be restored (another strategy's, another model's, damaged). */
export class StrategyStateError extends Error {
  override readonly name = 'StrategyStateError';
}

/**
 * Float32 values as base64 of their little-endian bytes: exact (a checkpoint restores bit for bit) and
 * 1.33 bytes a byte, where a JSON array of numbers takes 10 or more. The host is little-endian (the tensor
 * codec refuses to load otherwise), so the bytes are the array's own.
 */
export function encodeFloat32(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes `encodeFloat32`'s text; refuses text that is not base64 of whole float32s or holds NaN/Inf. */
export function decodeFloat32(text: string): Float32Array {
  if (!BASE64.test(text)) throw new StrategyStateError('state values are not base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new StrategyStateError(`state values have ${bytes.length} bytes, not a whole number of float32s`);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes); // copy: Buffer's pool offset need not be 4-aligned
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new StrategyStateError(`state value ${bad} is not finite (${out[bad]})`);
  return out;
}

/** A state field holding float32 values (or null before the first round). */
export const float32Field = z.string().nullable();

/** Parses a checkpointed state against its schema, naming the strategy in the error. */
export function parseState<T extends z.ZodType>(schema: T, state: unknown, strategy: string): z.output<T> {
  const parsed = schema.safeParse(state);
  if (!parsed.success) throw new StrategyStateError(`cannot restore ${strategy} state: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Decodes a nullable state field (null: the strategy had not aggregated a round yet). */
export function decodeField(text: string | null): Float32Array | undefined {
  return text === null ? undefined : decodeFloat32(text);
}

import { z } from 'zod';

/** The fields the wire's messages and stream headers are built from: numbers, names, keys and their bounds. */

export const finite = z.number().finite();
export const round = z.number().int().min(0);
export const taskId = z.string().min(1).max(128);
export const name = z.string().min(1).max(128);
/** Base64 of a fixed number of bytes (keys, nonces, signatures). */
export const base64Of = (bytes: number) =>
  z
    .string()
    .length(4 * Math.ceil(bytes / 3))
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')
    .refine((s) => Buffer.from(s, 'base64').length === bytes, `must decode to ${bytes} bytes`);
export const publicKeyField = base64Of(32);
export const nonceField = base64Of(32);
export const signatureField = base64Of(64);

/**
 * The most examples (training or test rows) a client may claim, at hello and in any result. Far beyond any
 * site's data, but bounded: a weighted mean gives a client its share of the cohort's examples, and a claim of
 * 1e15 would zero every other client's share (each result's claim is also bounded by what the client announced).
 */
export const MAX_EXAMPLES = 1_000_000_000;
export const examples = z.number().int().min(0).max(MAX_EXAMPLES);
/** Entries in a metrics record (loss, accuracy, timings, per-class figures...). */
export const MAX_METRICS = 256;
/** Entries in a fit task's `extra` (see taskExtras.ts: about a dozen keys exist). */
export const MAX_TASK_EXTRAS = 64;
/** Characters of a reason (a refusal, a run's end, a task's failure): enough for any message of ours. */
export const MAX_REASON = 4096;
export const reason = z.string().max(MAX_REASON);

/** A record of at most `maxEntries` entries, counted before any entry is parsed. */
export function boundedRecord<V extends z.ZodType>(value: V, maxEntries: number) {
  return z
    .unknown()
    .refine((v) => typeof v !== 'object' || v === null || Object.keys(v).length <= maxEntries, { message: `at most ${maxEntries} entries`, abort: true })
    .pipe(z.record(z.string().max(128), value));
}
export const metricsSchema = boundedRecord(finite, MAX_METRICS);

import { z } from 'zod';
import { boundedRecord, examples, finite, MAX_TASK_EXTRAS, metricsSchema, round, taskId } from './wireFields.js';

/**
 * The stream headers (`meta`) of the wire protocol: what each chunked stream carries and for which task. The
 * stream body is a tensor payload (tensorCodec.ts) unless the header says otherwise.
 */

export const fitConfigSchema = z.object({
  round,
  epochs: z.number().int().min(1).max(10_000),
  batchSize: z.number().int().min(1).max(1_000_000),
  learningRate: z.number().positive().finite(),
  maxSteps: z.number().int().min(1).optional(),
  extra: boundedRecord(z.union([finite, z.string().max(1024), z.boolean()]), MAX_TASK_EXTRAS).optional(),
});

export const evaluateConfigSchema = z.object({
  round,
  batchSize: z.number().int().min(1).max(1_000_000),
});

/**
 * When present, the body is not a tensor payload but CKKS ciphertext frames: the encrypted sum of the
 * contributors' weighted states, which the clients decrypt and divide by `totalWeight`. The flags say what
 * the `count` values pack beyond the model (encryptedLayout.ts).
 */
const encryptedGlobalSchema = z.object({
  totalWeight: z.number().positive().finite(),
  count: z.number().int().min(1),
  momentum: z.boolean().optional(),
  logClipNorm: z.boolean().optional(),
});
export type EncryptedGlobalMeta = z.infer<typeof encryptedGlobalSchema>;
/**
 * Set instead of a body: the client already holds this payload (same SHA-256, e.g. the global it evaluated
 * last round is the one it trains from now), so it is not sent again. A client that does not hold it refuses
 * the header with the code `payload-not-held` (refusalCode.ts), and the coordinator sends the bytes.
 */
const reuses = z.string().regex(/^[0-9a-f]{64}$/).optional();
/**
 * A payload that carries more than the model, in a layout both ends know: `scaffold` is SCAFFOLD's [x; c]. Set on
 * evaluate and final tasks (and the fit tasks that reuse them) whose payload is the fit payload: the client reads
 * the model part, and the next fit names the payload it holds instead of sending it again.
 */
export const payloadLayoutSchema = z.literal('scaffold');
export type PayloadLayout = z.infer<typeof payloadLayoutSchema>;
const layout = payloadLayoutSchema.optional();
/** Coordinator -> client: train on these global weights. */
export const fitStreamSchema = z.object({ kind: z.literal('fit'), round, taskId, config: fitConfigSchema, encrypted: encryptedGlobalSchema.optional(), reuses, layout });
/** Coordinator -> client: evaluate these global weights on held-out data. */
export const evaluateStreamSchema = z.object({ kind: z.literal('evaluate'), round, taskId, config: evaluateConfigSchema, encrypted: encryptedGlobalSchema.optional(), reuses, layout });
/**
 * Coordinator -> client, once the run's rounds are over: the last global state (after `round`), which the client
 * keeps as its final model; acknowledged once kept, nothing else comes back. Without it a run that evaluates
 * nothing in its last round would leave each client the global it trained from, one round stale.
 */
export const finalStreamSchema = z.object({ kind: z.literal('final'), round, taskId, encrypted: encryptedGlobalSchema.optional(), reuses, layout });
/** What a secure-aggregation mode adds to a download's header so the client can read the payload. */
export type ModeHeader = Pick<z.infer<typeof fitStreamSchema>, 'encrypted'>;
/** Client -> coordinator: the update (delta = local - global) for a fit task. */
export const fitResultStreamSchema = z.object({
  kind: z.literal('fit-result'),
  round,
  taskId,
  numExamples: examples.min(1),
  metrics: metricsSchema,
  /** The body is CKKS ciphertext frames of the client's weighted model, not a plaintext delta. */
  encrypted: z.boolean().optional(),
  /** The body is the SecAgg+ masked update: little-endian uint32 words in Z_(2^32), one per value. */
  masked: z.boolean().optional(),
  /** The body is the delta compressed (compressedFormat.ts): 8-bit levels or top-k pairs. */
  compression: z.enum(['int8', 'topk']).optional(),
});

/** Client -> coordinator: per-feature mean and mean of squares of its training rows (tensors "mean", "meanOfSquares"). */
export const statisticsResultStreamSchema = z.object({ kind: z.literal('statistics-result'), taskId, numExamples: examples.min(1) });
/** Coordinator -> client: the federation-wide standardization (tensors "mean", "std"); acknowledged once applied. */
export const standardizeStreamSchema = z.object({ kind: z.literal('standardize'), taskId });

export const streamMetaSchema = z.discriminatedUnion('kind', [
  fitStreamSchema,
  evaluateStreamSchema,
  finalStreamSchema,
  fitResultStreamSchema,
  statisticsResultStreamSchema,
  standardizeStreamSchema,
]);
export type StreamMeta = z.infer<typeof streamMetaSchema>;
export type StreamMetaOf<K extends StreamMeta['kind']> = Extract<StreamMeta, { kind: K }>;

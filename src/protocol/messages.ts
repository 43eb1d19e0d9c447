import { z } from 'zod';
import { dataSchemaSchema } from './dataSchema.js';

/**
 * The wire protocol, declared once: both ends validate every message they receive against these schemas
 * before doing any work. Small control messages travel as `msg` events; anything carrying weights travels
 * as a chunked stream whose `meta` is one of the stream schemas below.
 */

const finite = z.number().finite();
const round = z.number().int().min(0);
const taskId = z.string().min(1).max(128);
const name = z.string().min(1).max(128);
/** Base64 of a fixed number of bytes (keys, nonces, signatures). */
const base64Of = (bytes: number) =>
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
const examples = z.number().int().min(0).max(MAX_EXAMPLES);
/** Entries in a metrics record (loss, accuracy, timings, per-class figures...). */
export const MAX_METRICS = 256;
/** Entries in a fit task's `extra` (see taskExtras.ts: about a dozen keys exist). */
export const MAX_TASK_EXTRAS = 64;
/** Characters of a reason (a refusal, a run's end, a task's failure): enough for any message of ours. */
export const MAX_REASON = 4096;
const reason = z.string().max(MAX_REASON);

/** A record of at most `maxEntries` entries, counted before any entry is parsed. */
function boundedRecord<V extends z.ZodType>(value: V, maxEntries: number) {
  return z
    .unknown()
    .refine((v) => typeof v !== 'object' || v === null || Object.keys(v).length <= maxEntries, { message: `at most ${maxEntries} entries`, abort: true })
    .pipe(z.record(z.string().max(128), value));
}
export const metricsSchema = boundedRecord(finite, MAX_METRICS);

export const tensorSpecSchema = z.object({
  name: z.string().min(1).max(1024),
  shape: z.array(z.number().int().min(0)).max(8),
});

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

export const capabilitiesSchema = z.object({
  backend: z.string().max(64),
  numTrainExamples: examples,
  numTestExamples: examples,
  cohortVersion: z.string().max(64),
  /** A fingerprint of the local data's schema (SHA-256 of the feature names), never the data. */
  datasetFingerprint: z.string().max(128).optional(),
  /** The data's schema (columns, types, levels, label), which the coordinator checks against the study's. */
  dataSchema: dataSchemaSchema.optional(),
});

// ---- control messages ----

export const helloSchema = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int(),
  name,
  /** The client's Ed25519 identity key, which the coordinator's access list must name. */
  identityKey: publicKeyField,
  nonce: nonceField,
  capabilities: capabilitiesSchema,
  modelSpec: z.array(tensorSpecSchema).max(100_000),
});

/** Coordinator -> client: proves the coordinator's key over both nonces; the client answers with `auth`. */
export const challengeSchema = z.object({
  type: z.literal('challenge'),
  protocolVersion: z.number().int(),
  runId: z.string().min(1).max(128),
  coordinatorKey: publicKeyField,
  nonce: nonceField,
  signature: signatureField,
});

export const authSchema = z.object({
  type: z.literal('auth'),
  signature: signatureField,
  /** The client's X25519 agreement key signed for this run (for CKKS key boxes): known from the first moment. */
  agreementKey: z.object({ publicKey: base64Of(32), signature: signatureField, holdsKey: z.boolean() }).optional(),
});

export const welcomeSchema = z.object({
  type: z.literal('welcome'),
  protocolVersion: z.number().int(),
  runId: z.string().min(1).max(128),
  clientId: z.string().min(1).max(128),
});

/** A refusal; with `retryAfterMs` it is transient (load limits) and the client may try again after that long. */
export const refusedSchema = z.object({ type: z.literal('refused'), reason, retryAfterMs: z.number().int().min(0).max(3_600_000).optional() });

export const fitFailureSchema = z.object({ type: z.literal('fit-failure'), round, taskId, reason });

export const evaluateResultSchema = z.object({
  type: z.literal('evaluate-result'),
  round,
  taskId,
  numExamples: examples,
  loss: finite,
  metrics: metricsSchema,
  /** Over (run, round, task, client, claims, hash of the claims): see crypto/handshake.ts. */
  signature: signatureField,
});

export const evaluateFailureSchema = z.object({ type: z.literal('evaluate-failure'), round, taskId, reason });

export const runEndSchema = z.object({ type: z.literal('run-end'), reason });

/** Coordinator -> client: send the moments of your training features (federated standardization). */
export const statisticsRequestSchema = z.object({ type: z.literal('statistics-request'), taskId });
export const statisticsFailureSchema = z.object({ type: z.literal('statistics-failure'), taskId, reason });

// ---- audit anchoring (crypto/auditAnchor.ts) ----

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const auditSeq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Coordinator -> a round's participant: the head of the coordinator's audit chain after the round, as signed in its log. */
export const auditHeadSchema = z.object({ type: z.literal('audit-head'), round, seq: auditSeq, hash: sha256Hex, signature: signatureField });
/** Participant -> coordinator: its identity key's countersignature of (run, round, seq, hash). */
export const auditCountersignSchema = z.object({ type: z.literal('audit-countersign'), round, seq: auditSeq, hash: sha256Hex, signature: signatureField });

// ---- CKKS key distribution (the coordinator relays; it can open nothing) ----

const agreementKeyField = base64Of(32);

/** Client -> coordinator after welcome: its X25519 agreement key, signed by its identity for this run. */
export const agreementKeySchema = z.object({
  type: z.literal('agreement-key'),
  publicKey: agreementKeyField,
  signature: signatureField,
  /** True on a reconnect when the client still holds this run's CKKS key. */
  holdsKey: z.boolean(),
});

const recipientSchema = z.object({ name, identityKey: publicKeyField, agreementKey: agreementKeyField, agreementSignature: signatureField });
/** Coordinator -> the dealer (or another key holder): box the CKKS secret key for these clients. */
const keyEpoch = z.number().int().min(1).max(1_000_000);
export const ckksDealSchema = z.object({ type: z.literal('ckks-deal'), generate: z.boolean(), epoch: keyEpoch, recipients: z.array(recipientSchema).max(10_000) });

const keyBoxSchema = z.object({ recipient: name, nonce: base64Of(24), box: z.string().max(1 << 20), signature: signatureField });
/** Dealer -> coordinator: one sealed box per recipient it accepted, and why it refused the others. */
export const ckksBoxesSchema = z.object({
  type: z.literal('ckks-boxes'),
  boxes: z.array(keyBoxSchema).max(10_000),
  refused: z.array(z.object({ recipient: name, reason: z.string().max(1024) })).max(10_000).optional(),
});

/** Coordinator -> recipient: a key holder's box, with the holder's signed agreement key to open it. */
export const ckksKeySchema = z.object({
  type: z.literal('ckks-key'),
  /** The key holder that sealed the box (the dealer, or a client the dealer gave the key to). */
  dealer: name,
  epoch: keyEpoch,
  dealerIdentityKey: publicKeyField,
  dealerAgreementKey: agreementKeyField,
  dealerAgreementSignature: signatureField,
  keyBox: keyBoxSchema,
});

// ---- SecAgg+ (Bonawitz et al. 2017 with Bell et al. 2020's neighbour graph; the coordinator relays, it opens nothing) ----

const secaggRound = round.min(1);
/** A cohort, a survivor set: at most this many clients take part in one SecAgg+ round. */
export const MAX_SECAGG_COHORT = 10_000;
const secaggNames = z.array(name).max(MAX_SECAGG_COHORT);
const shareBoxFields = { nonce: base64Of(12), ciphertext: z.string().max(1024) };

/** Coordinator -> client: make fresh round keys (setup). */
export const secaggSetupSchema = z.object({ type: z.literal('secagg-setup'), round: secaggRound });
/** Client -> coordinator: its fresh X25519 keys for share boxes and masks and a commitment to its self-mask seed, signed. */
export const secaggRoundKeysSchema = z.object({
  type: z.literal('secagg-round-keys'),
  round: secaggRound,
  encryptionKey: publicKeyField,
  maskKey: publicKeyField,
  selfMaskCommitment: base64Of(32),
  signature: signatureField,
});
/** Coordinator -> client: every member's signed round keys; the client derives the graph and shares with its neighbours. */
export const secaggShareKeysSchema = z.object({
  type: z.literal('secagg-share-keys'),
  round: secaggRound,
  neighbours: z.number().int().min(2).max(254),
  threshold: z.number().int().min(2).max(254),
  members: z
    .array(z.object({ name, identityKey: publicKeyField, encryptionKey: publicKeyField, maskKey: publicKeyField, selfMaskCommitment: base64Of(32), signature: signatureField }))
    .max(MAX_SECAGG_COHORT),
});
/** Client -> coordinator: one encrypted box of shares per neighbour. */
export const secaggSharesSchema = z.object({ type: z.literal('secagg-shares'), round: secaggRound, boxes: z.array(z.object({ recipient: name, ...shareBoxFields })).max(254) });
/** Coordinator -> client: the boxes its neighbours sealed for it. */
export const secaggForwardSchema = z.object({ type: z.literal('secagg-forward'), round: secaggRound, boxes: z.array(z.object({ sender: name, ...shareBoxFields })).max(254) });
/** Coordinator -> client: the survivors (whose masked input arrived); the client signs the set (consistency round). */
export const secaggConsistencySchema = z.object({ type: z.literal('secagg-consistency'), round: secaggRound, survivors: secaggNames });
export const secaggSurvivorsSignedSchema = z.object({ type: z.literal('secagg-survivors-signed'), round: secaggRound, signature: signatureField });
/** Coordinator -> client: the survivors' signatures over the set; the client checks them, then reveals shares. */
export const secaggUnmaskSchema = z.object({
  type: z.literal('secagg-unmask'),
  round: secaggRound,
  survivors: secaggNames,
  signatures: z.array(z.object({ name, signature: signatureField })).max(MAX_SECAGG_COHORT),
});
/** Client -> coordinator: per neighbour, the share of its self-mask seed (survivor) or of its mask key (dropped), never both. */
export const secaggRevealSchema = z.object({
  type: z.literal('secagg-reveal'),
  round: secaggRound,
  shares: z.array(z.object({ owner: name, kind: z.enum(['self', 'mask']), share: base64Of(33) })).max(254),
});

export const messageSchema = z.discriminatedUnion('type', [
  helloSchema,
  challengeSchema,
  authSchema,
  welcomeSchema,
  refusedSchema,
  fitFailureSchema,
  evaluateResultSchema,
  evaluateFailureSchema,
  runEndSchema,
  statisticsRequestSchema,
  statisticsFailureSchema,
  agreementKeySchema,
  ckksDealSchema,
  ckksBoxesSchema,
  ckksKeySchema,
  secaggSetupSchema,
  secaggRoundKeysSchema,
  secaggShareKeysSchema,
  secaggSharesSchema,
  secaggForwardSchema,
  secaggConsistencySchema,
  secaggSurvivorsSignedSchema,
  secaggUnmaskSchema,
  secaggRevealSchema,
  auditHeadSchema,
  auditCountersignSchema,
]);
export type Message = z.infer<typeof messageSchema>;
export type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>;

// ---- stream metadata (the stream body is a tensor payload, see tensorCodec.ts) ----

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
/** Coordinator -> client: train on these global weights. */
/**
 * A payload that carries more than the model, in a layout both ends know: `scaffold` is SCAFFOLD's [x; c]. Set on
 * evaluate and final tasks (and the fit tasks that reuse them) whose payload is the fit payload: the client reads
 * the model part, and the next fit names the payload it holds instead of sending it again.
 */
export const payloadLayoutSchema = z.literal('scaffold');
export type PayloadLayout = z.infer<typeof payloadLayoutSchema>;
const layout = payloadLayoutSchema.optional();
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

/** Formats a zod error as "field: problem; field: problem" so refusals name what to fix. */
export function describeZodError(error: z.ZodError): string {
  // Bounded: a hostile message must not make its own refusal large (or slow to build).
  const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}...` : text);
  const shown = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length ? issue.path.map((p) => clip(String(p), 40)).join('.') : '(message)';
    return `${path}: ${clip(issue.message, 120)}`;
  });
  const more = error.issues.length > shown.length ? `; and ${error.issues.length - shown.length} more` : '';
  return clip(shown.join('; '), 500) + more;
}

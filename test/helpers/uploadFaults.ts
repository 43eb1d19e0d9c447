import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import type { Identity } from '../../src/crypto/identity.js';
import type { Ack } from '../../src/protocol/socketLike.js';
import { encodeWeights } from '../../src/protocol/tensorCodec.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ask } from './fuzzLanes.js';
import { applyMutations, mutationsOf, wireText } from './fuzzMutations.js';
import { anyValue, seededBytes, smallValue } from './fuzzValues.js';

/** Everything one upload puts on the wire, in order: stream:begin, stream:chunk..., [stream:abort], stream:end. */
export interface UploadAttempt {
  readonly fault: string;
  readonly header: unknown;
  readonly chunks: readonly (readonly unknown[])[];
  readonly abort?: unknown;
  readonly trailer: unknown;
}

/** The fit task being answered, and how an honest client would sign for it. */
export interface UploadContext {
  readonly round: number;
  readonly taskId: string;
  /** The update an honest upload would carry (the fuzzer's is large, so a leak into the model shows). */
  readonly delta: Weights;
  readonly numExamples: number;
  /** Other real ids to swap in: other tasks of this and earlier rounds. */
  readonly otherIds: readonly string[];
  /** Signs (round, task, kind, claims, payload hash) as `signer` (this client by default) and `client` (this client by default). */
  readonly sign: (claims: { round: number; taskId: string; kind: string; numExamples: number; payloadHash: string; client?: string; signer?: Identity }) => string;
  /** Another federation member's key, to sign with a key that is real but not this client's. */
  readonly otherSigner: Identity;
}

const METRICS = { loss: 0.5 };
/** Bytes before the first value: prefix (8) and the JSON header of the 2-tensor test model (63), then 1 padding byte. */
const HEADER_END = 71;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const metaOf = (ctx: UploadContext) => ({ kind: 'fit-result', round: ctx.round, taskId: ctx.taskId, numExamples: ctx.numExamples, metrics: METRICS });

/** The upload an honest client sends for the task: `payload` (the encoded delta by default) in chunks cut at `chunkCuts`, signed. */
export function honestUpload(ctx: UploadContext, id: string, payload = encodeWeights(ctx.delta), chunkCuts: readonly number[] = [], fault = 'none'): UploadAttempt {
  const payloadHash = sha256(payload);
  const signature = ctx.sign({ round: ctx.round, taskId: ctx.taskId, kind: 'fit-result', numExamples: ctx.numExamples, payloadHash });
  return {
    fault,
    header: { id, meta: metaOf(ctx), totalBytes: payload.length },
    chunks: split(payload, chunkCuts).map((c, seq) => [id, seq, c]),
    trailer: { id, sha256: payloadHash, signature },
  };
}

/**
 * Faults that mean the same sent as one `stream:whole` message (header and trailer merged, chunks joined): the
 * bytes or the claims about them are wrong. Chunking faults, aborts and edits of a stream id only exist in steps.
 */
const WHOLE_FAULTS = new Set(['none', 'non-finite value', 'corrupted header byte', 'truncated payload', 'trailing bytes', 'garbage payload', 'wrong hash']);

/** Whether `a` can go as one whole-stream message with the same fault (see WHOLE_FAULTS). */
export function sendableWhole(a: UploadAttempt): boolean {
  return (WHOLE_FAULTS.has(a.fault) || a.fault.startsWith('payload for another model') || a.fault.startsWith('signature over another')) && a.abort === undefined;
}

/** Sends a sendableWhole attempt as one `stream:whole` message; returns its one acknowledgement. */
export async function sendUploadWhole(socket: Socket, a: UploadAttempt, onInput: () => void): Promise<Ack[]> {
  const trailer = a.trailer as { sha256?: unknown; signature?: unknown };
  const bytes = Buffer.concat(a.chunks.map((c) => c[2] as Uint8Array));
  onInput();
  try {
    return [await ask(socket, 'stream:whole', [{ ...(a.header as object), sha256: trailer.sha256, signature: trailer.signature }, bytes])];
  } finally {
    socket.emit('stream:abort', { id: (a.header as { id?: unknown }).id, reason: 'attempt over' });
  }
}

/**
 * Puts an attempt on the wire step by step, stopping at the first refusal; then aborts its streams so no
 * half-open upload is left behind. Returns every acknowledgement in order (each checked to be an Ack).
 */
export async function sendUpload(socket: Socket, a: UploadAttempt, onInput: () => void): Promise<Ack[]> {
  const acks: Ack[] = [];
  const step = async (event: string, args: readonly unknown[]) => {
    onInput();
    const ack = await ask(socket, event, args);
    acks.push(ack);
    return ack.ok;
  };
  try {
    if (!(await step('stream:begin', [a.header]))) return acks;
    for (const chunk of a.chunks) if (!(await step('stream:chunk', chunk))) return acks;
    if (a.abort !== undefined) {
      onInput();
      socket.emit('stream:abort', a.abort);
    }
    await step('stream:end', [a.trailer]);
    return acks;
  } finally {
    const ids = new Set([a.header, a.trailer].map((x) => (typeof x === 'object' && x !== null ? (x as { id?: unknown }).id : undefined)).filter((id) => typeof id === 'string'));
    for (const id of ids) socket.emit('stream:abort', { id, reason: 'attempt over' });
  }
}

/** Splits `bytes` at the given fractions of its length (1 to 3 chunks). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return bytes.length === 0 ? [] : out;
}

/**
 * Upload attempts that must all be refused, each with one fault, built from a valid upload for the task:
 * NaN and infinities in the values (signed honestly), a payload for another model, corrupted header bytes,
 * truncated or padded payloads, garbage, chunks out of order or not binary or beyond the announced size, a
 * wrong hash, trailers and signatures for other claims, tasks, rounds or keys, an abort before the end,
 * and mutated headers (wrong types, missing fields, huge and negative numbers, swapped ids).
 */
export function faultyUploads(ctx: UploadContext): fc.Arbitrary<UploadAttempt> {
  return fc.oneof(...uploadFaultKinds(ctx));
}

/**
 * The generators behind `faultyUploads`, one per kind of fault; the last one mutates the header, the others
 * send a valid header (so their fault is met only past it, while the task is open).
 */
export function uploadFaultKinds(ctx: UploadContext): fc.Arbitrary<UploadAttempt>[] {
  const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 2 });
  const meta = metaOf(ctx);
  const honest = (fault: string, id: string, payload: Uint8Array, chunkCuts: readonly number[]) => honestUpload(ctx, id, payload, chunkCuts, fault);
  const valid = encodeWeights(ctx.delta);
  const values = (valid.length - HEADER_END - 1) / 4;

  return [
    // Values that are not finite, in a payload that is otherwise correct and honestly signed.
    fc.record({ id: fc.uuid(), at: fc.nat(values - 1), bad: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY), cuts }).map(({ id, at, bad, cuts: c }) => {
      const payload = Uint8Array.from(valid);
      new DataView(payload.buffer).setFloat32(HEADER_END + 1 + 4 * at, bad, true);
      return honest('non-finite value', id, payload, c);
    }),
    // A well-formed payload for another model.
    fc.record({ id: fc.uuid(), change: fc.constantFrom('rename', 'reshape', 'extra tensor', 'missing tensor'), cuts }).map(({ id, change, cuts: c }) => {
      const d = ctx.delta;
      const other: Weights =
        change === 'rename' ? [{ ...d[0]!, name: 'kernel' }, d[1]!]
        : change === 'reshape' ? [{ name: d[0]!.name, shape: [1, 2], data: d[0]!.data }, d[1]!]
        : change === 'extra tensor' ? [...d, { name: 'extra', shape: [1], data: Float32Array.of(1) }]
        : [d[0]!];
      return honest(`payload for another model (${change})`, id, encodeWeights(other), c);
    }),
    // A byte of the magic, the header length or the JSON header changed.
    fc.record({ id: fc.uuid(), at: fc.nat(HEADER_END - 1), xor: fc.integer({ min: 1, max: 255 }), cuts }).map(({ id, at, xor, cuts: c }) => {
      const payload = Uint8Array.from(valid);
      payload[at]! ^= xor;
      return honest('corrupted header byte', id, payload, c);
    }),
    fc.record({ id: fc.uuid(), drop: fc.integer({ min: 1, max: valid.length }), cuts }).map(({ id, drop, cuts: c }) => honest('truncated payload', id, valid.subarray(0, valid.length - drop), c)),
    fc.record({ id: fc.uuid(), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }), cuts }).map(({ id, extra, cuts: c }) => honest('trailing bytes', id, Buffer.concat([valid, extra]), c)),
    fc.record({ id: fc.uuid(), n: fc.integer({ min: 1, max: 64 * 1024 }), seed: fc.integer(), cuts }).map(({ id, n, seed, cuts: c }) => honest('garbage payload', id, seededBytes(n, seed), c)),
    // Chunking faults on a valid payload.
    fc.record({ id: fc.uuid(), seq: fc.oneof(fc.integer({ min: -3, max: 5 }), smallValue).filter((s) => wireText(s) !== '1') }).map(({ id, seq }) => {
      const a = honest('chunk out of order', id, valid, [0.5]);
      return { ...a, chunks: [a.chunks[0]!, [id, seq, a.chunks[1]![2]]] };
    }),
    fc.record({ id: fc.uuid(), bytes: smallValue.filter((v) => !ArrayBuffer.isView(v)) }).map(({ id, bytes }) => {
      const a = honest('chunk that is not binary', id, valid, [0.5]);
      return { ...a, chunks: [a.chunks[0]!, [id, 1, bytes]] };
    }),
    fc.record({ id: fc.uuid(), extra: fc.uint8Array({ minLength: 1, maxLength: 16 }) }).map(({ id, extra }) => {
      const a = honest('chunk beyond the announced size', id, valid, []);
      return { ...a, chunks: [...a.chunks, [id, a.chunks.length, extra]] };
    }),
    // Trailer faults: the bytes are right, what is claimed about them is not.
    fc.record({ id: fc.uuid(), sha: fc.oneof(fc.constant('upper'), fc.constant('flip'), smallValue) }).map(({ id, sha }) => {
      const a = honest('wrong hash', id, valid, []);
      const real = (a.trailer as { sha256: string }).sha256;
      const claimed = sha === 'upper' ? real.toUpperCase() : sha === 'flip' ? `${real[0] === '0' ? '1' : '0'}${real.slice(1)}` : sha;
      return { ...a, trailer: { ...(a.trailer as object), sha256: claimed } };
    }),
    fc
      .record({
        id: fc.uuid(),
        other: fc.constantFrom('numExamples', 'round', 'task', 'kind', 'client', 'key'),
        otherTask: ctx.otherIds.length > 0 ? fc.constantFrom(...ctx.otherIds) : fc.uuid(),
      })
      .map(({ id, other, otherTask }) => {
        const a = honest(`signature over another ${other}`, id, valid, []);
        const payloadHash = sha256(valid);
        const claims = { round: ctx.round, taskId: ctx.taskId, kind: 'fit-result', numExamples: ctx.numExamples, payloadHash };
        const signature = ctx.sign(
          other === 'numExamples' ? { ...claims, numExamples: ctx.numExamples - 1 }
          : other === 'round' ? { ...claims, round: ctx.round + 1 }
          : other === 'task' ? { ...claims, taskId: otherTask }
          : other === 'kind' ? { ...claims, kind: 'statistics-result' }
          : other === 'client' ? { ...claims, client: 'h0' }
          : { ...claims, signer: ctx.otherSigner },
        );
        return { ...a, trailer: { ...(a.trailer as object), signature } };
      }),
    fc.record({ id: fc.uuid(), mutations: mutationsOf({ id: 'x', sha256: 'x', signature: 'x' }) }).map(({ id, mutations }) => {
      const a = honest('mutated trailer', id, valid, []);
      const trailer = applyMutations(a.trailer as Record<string, unknown>, mutations);
      const essence = (t: unknown) => wireText(typeof t === 'object' && t !== null ? [(t as Record<string, unknown>).id, (t as Record<string, unknown>).sha256, (t as Record<string, unknown>).signature] : t);
      // An edit that leaves the three fields as they were (an unknown field added) is no fault: skip it.
      return essence(trailer) === essence(a.trailer) ? { ...a, trailer: { ...(a.trailer as object), signature: undefined } } : { ...a, trailer };
    }),
    fc.record({ id: fc.uuid(), reason: anyValue }).map(({ id, reason }) => {
      const a = honest('abort before the end', id, valid, [0.5]);
      return { ...a, chunks: a.chunks.slice(0, 1), abort: { id, reason } };
    }),
    // A mutated header (the rest honest): wrong types, missing fields, huge or negative numbers, swapped ids.
    fc
      .record({ id: fc.uuid(), mutations: mutationsOf({ id: 'x', meta, totalBytes: valid.length }, { ids: ctx.otherIds }) })
      .map(({ id, mutations }) => {
        const a = honest('mutated header', id, valid, []);
        return { attempt: { ...a, header: applyMutations(a.header, mutations) }, original: a.header };
      })
      // An edit that only adds unknown fields leaves a valid header: no fault, skip it.
      .filter(({ attempt, original }) => headerEssence(attempt.header) !== headerEssence(original))
      .map(({ attempt }) => attempt),
  ];
}

/** The header as the coordinator reads it: unknown fields of the header and of its meta are ignored (not those of metrics). */
function headerEssence(header: unknown): string {
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return wireText(header);
  const h = header as Record<string, unknown>;
  const m = h.meta;
  const meta = typeof m === 'object' && m !== null && !Array.isArray(m) && !ArrayBuffer.isView(m) ? (({ kind, round, taskId, numExamples, metrics }: Record<string, unknown>) => ({ kind, round, taskId, numExamples, metrics }))(m as Record<string, unknown>) : m;
  return wireText({ id: h.id, meta, totalBytes: h.totalBytes });
}

import type { Logger } from 'pino';
import type { ResolvedSecurityPolicy } from '../../client/security/securityPolicy.js';
import type { Identity } from '../../crypto/identity.js';
import { packBits } from '../../crypto/secagg/bitPacking.js';
import { conditionalRound, dpEncoding } from '../../crypto/secagg/dpEncoding.js';
import { quantize } from '../../crypto/secagg/quantize.js';
import { DiscreteGaussian } from '../../privacy/discreteGaussian.js';
import type { Message } from '../../protocol/messages.js';
import type { Weights } from '../../protocol/tensors.js';
import type { ClientMode } from '../clientMode.js';
import { readSecAggInstructions } from './instructions.js';
import { SecAggMember } from './member.js';

/** What the SecAgg+ client half needs from its node. */
export interface SecAggClientContext {
  readonly name: string;
  readonly identity: Identity;
  readonly policy: ResolvedSecurityPolicy;
  readonly chunkBytes: number;
  readonly audit: { append(type: string, data: Readonly<Record<string, unknown>>): void };
  readonly log: Logger;
  /** Sends a reply to the coordinator. */
  readonly send: (message: Message) => Promise<void>;
  /** Simulations only: the encoded update before masking (a copy), for a harness that checks the unmasked sum. */
  readonly onSecAggEncoded?: (round: number, encoded: Uint32Array) => void;
}

function flatten(weights: Weights): Float32Array {
  const out = new Float32Array(weights.reduce((s, t) => s + t.data.length, 0));
  let at = 0;
  for (const t of weights) out.set(t.data, (at += t.data.length) - t.data.length);
  return out;
}

/** The packed masked values as upload chunks. */
function* byteChunks(bytes: Uint8Array, chunkBytes: number): Iterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, Math.min(bytes.length, at + chunkBytes));
}

/**
 * The masked update on the wire: each value reduced mod 2^bits and packed at `bits` bits. The masks were added
 * mod 2^32, so each value's mask in Z_(2^bits) is the low `bits` bits of its 32-bit keystream word.
 */
function packedUpload(masked: Uint32Array, bits: number, chunkBytes: number) {
  const packed = packBits(masked, bits);
  masked.fill(0);
  return { totalBytes: packed.length, chunks: byteChunks(packed, chunkBytes) };
}

/**
 * One SecAgg+ step at a time in this process, with a full event-loop turn (timers and sockets) before each. A
 * deployed node has one member per process and only pays a timer tick; a simulation runs 100 nodes in one
 * thread, and a burst of 100 key exchanges or maskings run back to back would hold it past socket.io's ping
 * timeout.
 */
let turn: Promise<unknown> = Promise.resolve();
function inTurn<T>(work: () => T | Promise<T>): Promise<T> {
  const run = turn.then(() => new Promise((resolve) => setTimeout(resolve, 0))).then(work);
  turn = run.catch(() => undefined);
  return run;
}

/** Noise values drawn at a time. */
const NOISE_BLOCK = 65_536;

/**
 * Distributed DP (Kairouz, Liu, Steinke 2021): the update clipped to C and rounded onto the integer grid with its
 * norm bounded, plus this client's discrete Gaussian share of std ceil(share x sensitivity) grid steps (rounded
 * up: never less noise than asked), drawn exactly from the CSPRNG.
 */
function noisedEncoding(values: Float32Array, dp: { readonly clipNorm: number; readonly noiseShare: number }): Uint32Array {
  const encoding = dpEncoding(dp.clipNorm, values.length);
  const { encoded } = conditionalRound(values, encoding);
  const sigma = Math.ceil(dp.noiseShare * encoding.sensitivity);
  if (sigma === 0) return encoded;
  const sampler = new DiscreteGaussian(sigma);
  const noise = new Int32Array(Math.min(NOISE_BLOCK, values.length));
  for (let from = 0; from < encoded.length; from += noise.length) {
    sampler.fill(noise);
    const end = Math.min(encoded.length, from + noise.length);
    for (let i = from; i < end; i++) encoded[i] = (encoded[i]! + noise[i - from]!) >>> 0;
  }
  return encoded;
}

/**
 * SecAgg+ mode's client half: the key exchange and unmasking messages (SecAggMember, checked against this node's
 * roster), and the masked upload: the update, weighted by the client's share of the cohort's examples, quantized
 * into Z_(2^bits), masked, and packed at `bits` bits a value. The global model arrives in plaintext (plain mode
 * reads it: the coordinator holds it).
 */
export function secaggPlusClientMode(context: SecAggClientContext): ClientMode {
  const { audit, log, policy } = context;
  const member = new SecAggMember(context.name, context.identity, policy.roster, policy.secaggplus);
  let rosterWarned = false;
  const answer = async (message: Message, runId: string): Promise<Message | undefined> => {
    switch (message.type) {
      case 'secagg-setup':
        if (!policy.roster && !rosterWarned) {
          rosterWarned = true;
          log.warn('no federation roster pinned (security.roster): the coordinator vouches for the other members of SecAgg+ rounds');
        }
        return member.setup(message, runId);
      case 'secagg-share-keys':
        return member.shareKeys(message, runId);
      case 'secagg-forward':
        member.receiveShares(message, runId);
        return undefined;
      case 'secagg-consistency':
        return member.signSurvivors(message, runId);
      case 'secagg-unmask':
        return member.reveal(message, runId);
      default:
        throw new Error(`the secaggplus mode does not handle "${message.type}"`);
    }
  };
  return {
    name: 'secaggplus',
    messages: ['secagg-setup', 'secagg-share-keys', 'secagg-forward', 'secagg-consistency', 'secagg-unmask'],
    handle: async (message, runId) => {
      let reply: Message | undefined;
      try {
        reply = await inTurn(() => answer(message, runId));
      } catch (e) {
        // The refusal goes back as the message's answer; nothing is revealed.
        const round = 'round' in message ? message.round : 0;
        audit.append('secaggplus-refused', { run: runId, round, stage: message.type, reason: (e as Error).message });
        log.error({ round, stage: message.type, error: (e as Error).message }, 'refused a SecAgg+ step');
        throw e;
      }
      if (reply) void context.send(reply).catch((e: unknown) => log.warn({ error: (e as Error).message }, 'a SecAgg+ reply did not reach the coordinator'));
    },
    readsDownload: () => false,
    openDownload: () => {
      throw new Error('SecAgg+ downloads are plaintext: the plain mode reads them');
    },
    maxDownloadBytes: () => 0,
    takesFit: (config) => readSecAggInstructions(config.extra) !== undefined,
    protectsUpdates: true,
    steps: () => [],
    protect: async (update, _state, config) => {
      const instructions = readSecAggInstructions(config.extra)!;
      if (instructions.dp) {
        const encoded = noisedEncoding(flatten(update.delta), instructions.dp);
        context.onSecAggEncoded?.(config.round, encoded.slice());
        const masked = await inTurn(() => member.mask(encoded, config.round, instructions.cohortSize));
        encoded.fill(0);
        return { ...packedUpload(masked, instructions.bits, context.chunkBytes), header: { masked: true }, metrics: update.metrics };
      }
      const encoded = quantize(flatten(update.delta), instructions.weight, { bits: instructions.bits, range: instructions.clippingRange, cohort: instructions.cohortSize });
      context.onSecAggEncoded?.(config.round, encoded.values.slice());
      const masked = await inTurn(() => member.mask(encoded.values, config.round, instructions.cohortSize));
      encoded.values.fill(0);
      if (encoded.clipped > 0) log.warn({ round: config.round, clipped: encoded.clipped }, 'values beyond the SecAgg+ clipping range were clipped');
      const metrics = { ...update.metrics, ...(encoded.clipped > 0 ? { secaggClipped: encoded.clipped } : {}) };
      return { ...packedUpload(masked, instructions.bits, context.chunkBytes), header: { masked: true }, metrics };
    },
    dispose: () => member.forget(),
  };
}

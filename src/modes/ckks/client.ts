import type { Logger } from 'pino';
import { CkksMember } from './member.js';
import { clipNormRefusal } from '../../client/security/taskGate.js';
import type { ResolvedSecurityPolicy } from '../../client/security/securityPolicy.js';
import { encryptedContribution } from '../../client/encryptedContribution.js';
import type { Identity } from '../../crypto/identity.js';
import { maxEncryptedStreamBytes } from '../../crypto/ckks/ckksSizes.js';
import { defaultCkksThreads } from '../../crypto/ckks/threads/ckksThreads.js';
import { instructedLayout, readEncryptedInstructions } from '../../protocol/encryptedInstructions.js';
import { layoutLength } from '../../protocol/encryptedLayout.js';
import { totalParameters } from '../../protocol/tensors.js';
import type { Message, MessageOf } from '../../protocol/messages.js';
import type { ClientMode } from '../clientMode.js';

/** What the CKKS client half needs from its node. */
export interface CkksClientContext {
  readonly name: string;
  readonly identity: Identity;
  readonly policy: ResolvedSecurityPolicy;
  readonly chunkBytes: number;
  /** Worker threads for CKKS encryption and decryption (default defaultCkksThreads(); 0: this thread). */
  readonly threads?: number;
  readonly audit: { append(type: string, data: Readonly<Record<string, unknown>>): void };
  readonly log: Logger;
  /** Sends a message to the coordinator (the key boxes a dealer makes). */
  readonly send: (message: Message) => Promise<void>;
  /** Refuses a task outside the node's policy (audited there); returns the error to throw. */
  readonly refuse: (round: number, reason: string) => Error;
  /** Simulations only (SimulationHooks.onSecAggEncoded): a SecAgg+ update before masking. */
  readonly onSecAggEncoded?: (round: number, encoded: Uint32Array) => void;
}

/**
 * CKKS mode's client half: the key exchange (dealing or receiving the run's key, checked against the
 * node's roster), decryption of the encrypted global, and the encrypted upload: the client applies the
 * strategy's linear step, its DP clip and noise share, and encrypts weight x its part of the next state.
 */
export function ckksClientMode(context: CkksClientContext): ClientMode {
  const { audit, log, policy } = context;
  const member = new CkksMember(context.name, context.identity, policy.roster, context.threads ?? defaultCkksThreads());
  let rosterWarned = false;
  const warnWithoutRoster = () => {
    if (policy.roster || rosterWarned) return;
    rosterWarned = true;
    log.warn('no federation roster pinned (security.roster): the coordinator decides who deals and who receives the CKKS key');
  };
  const deal = async (message: MessageOf<'ckks-deal'>, runId: string) => {
    try {
      const { reply, refused } = await member.deal(message, runId);
      for (const r of refused) audit.append('ckks-key-box-refused', { run: runId, recipient: r.recipient, reason: r.reason });
      if (refused.length) log.warn({ refused }, 'refused to box the CKKS key for some recipients');
      return reply;
    } catch (e) {
      audit.append('ckks-deal-refused', { run: runId, reason: (e as Error).message });
      log.error({ error: (e as Error).message }, 'refused to deal the CKKS key');
      throw e;
    }
  };
  const receive = async (message: MessageOf<'ckks-key'>, runId: string) => {
    try {
      await member.receiveKey(message, runId);
      audit.append('ckks-key-received', { run: runId, dealer: message.dealer, epoch: message.epoch });
    } catch (e) {
      audit.append('ckks-key-refused', { run: runId, dealer: message.dealer, epoch: message.epoch, reason: (e as Error).message });
      log.error({ dealer: message.dealer, error: (e as Error).message }, 'refused a CKKS key');
      throw e;
    }
  };
  return {
    name: 'ckks',
    messages: ['ckks-deal', 'ckks-key'],
    handle: (message, runId) => {
      warnWithoutRoster();
      if (message.type === 'ckks-key') return receive(message, runId);
      if (message.type !== 'ckks-deal') throw new Error(`the ckks mode does not handle "${message.type}"`);
      // The boxes go back as the reply the coordinator waits for; a refusal is logged and audited above.
      void deal(message, runId)
        .then((reply) => context.send(reply))
        .catch(() => undefined);
      return undefined;
    },
    announce: (runId) => member.announce(runId),
    readsDownload: (header) => header.encrypted !== undefined,
    openDownload: (header, spec) => {
      // Each ciphertext is decrypted as soon as its frame is complete: decryption overlaps the download.
      const sum = member.sumDecryptor(header.encrypted!, spec);
      const parser = member.frameParser();
      return {
        write: (chunk) => parser.push(chunk).forEach((frame) => sum.push(frame)),
        end: () => {
          parser.end();
          const state = sum.finish();
          state.catch(() => undefined); // read (and its failure thrown) by the caller of the returned function
          return () => state;
        },
      };
    },
    // The largest encrypted global: the model, FedAvgM's momentum and log C (2P + 1 values), each frame at the
    // frame parser's bound of twice a ciphertext (a seeded sum carries a record per contributor).
    maxDownloadBytes: (spec) => 2 * maxEncryptedStreamBytes(2 * totalParameters(spec) + 1),
    takesFit: (config) => readEncryptedInstructions(config.extra) !== undefined,
    protectsUpdates: true,
    // Clipping and the DP noise share happen in the encrypted contribution (the clip norm may travel encrypted).
    steps: () => [],
    // The upload's masks are made on the worker threads while this node trains (ckksThreads.ts).
    prepare: (state, config) => {
      const instructions = readEncryptedInstructions(config.extra);
      if (!instructions || !member.hasKey) return;
      void member.prepareUpload(layoutLength(instructedLayout(instructions, totalParameters(state.weights))));
    },
    protect: async (update, state, config) => {
      const instructions = readEncryptedInstructions(config.extra)!;
      const refusal = clipNormRefusal(policy, state.clipNorm);
      if (refusal) throw context.refuse(config.round, refusal);
      // The contribution is the (possibly locally privatized) update's delta from the global it trained from.
      const contribution = encryptedContribution(state, update.delta, instructions);
      const upload = member.encryptVector(contribution.vector, instructions.weight, context.chunkBytes);
      if (upload.clipped > 0) log.warn({ round: config.round, clipped: upload.clipped }, 'values beyond the CKKS headroom were clipped');
      const metrics = {
        ...update.metrics,
        ...(upload.clipped > 0 ? { ckksClipped: upload.clipped } : {}),
        ...(contribution.clipNorm !== undefined ? { clipNorm: contribution.clipNorm } : {}),
      };
      return { totalBytes: upload.totalBytes, chunks: upload.chunks, header: { encrypted: true }, metrics };
    },
    dispose: () => member.dispose(),
  };
}

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { CkksEvaluatorSide } from '../crypto/ckks/evaluatorSide.js';
import type { CkksContext } from '../crypto/ckks/ckksContext.js';
import { ciphertextFrameChunks, framedByteLength } from '../crypto/ckks/frames.js';
import { encodeBase64 } from '../crypto/keyEncoding.js';
import type { AccessList } from './accessList.js';
import type { AuditTrail } from './auditTrail.js';
import { encryptedCheckpointHash, type EncryptedCheckpoint } from './store/encryptedCheckpoint.js';
import type { ClientRegistry } from './clientRegistry.js';
import type { ClientSession, EncodedWeights } from './clientSession.js';
import { collectTasks } from './collectTasks.js';
import type { FitReport, FitTask, Strategy, TaskFailure } from './strategy.js';
import { checkAdaptiveClipping, DEFAULT_CLIP_LEARNING_RATE, updateNoiseMultiplier, type AdaptiveClipping } from '../privacy/adaptiveClipping.js';
import { encryptedExtras, type EncryptedInstructions } from '../protocol/encryptedInstructions.js';
import { layoutLength, type EncryptedLayout } from '../protocol/encryptedLayout.js';

export class CkksSetupError extends Error {
  override readonly name = 'CkksSetupError';
}

/** The model as the coordinator holds it under CKKS: the encrypted sum of weighted states (layout), and the weights' total. */
export type EncryptedGlobal = EncryptedCheckpoint;

function recipientOf(session: ClientSession) {
  return {
    name: session.summary.name,
    identityKey: encodeBase64(session.publicKey),
    agreementKey: session.agreementKey!.publicKey,
    agreementSignature: session.agreementKey!.signature,
  };
}

/** The run's one CKKS key epoch: keys are generated once per run and never replaced. */
export const CKKS_KEY_EPOCH = 1;

/**
 * Who generates a run's CKKS key. With an allowlist it is the first client name on it, the rule every client
 * that pins the same roster computes for itself (a client refuses to generate, or to open a box, otherwise);
 * in open mode, the connected client whose name sorts first.
 */
function designatedDealer(access: AccessList, sessions: readonly ClientSession[]): string | undefined {
  const names = access.mode === 'allowlist' ? access.peers.filter((p) => p.role === 'client').map((p) => p.name) : sessions.map((s) => s.summary.name);
  return [...names].sort()[0];
}

/**
 * Has a key holder box the CKKS key for every connected client that lacks it, and relays the boxes. With no
 * holder yet, the designated dealer generates a fresh key for this run (waiting up to `deadlineMs` for it to
 * connect), unless `mayGenerate` is false (an encrypted global exists). The coordinator relays boxes it cannot
 * open; recipients the holder refuses (not on its roster, a key that does not verify) are audited.
 */
export async function distributeCkksKey(registry: ClientRegistry, access: AccessList, deadlineMs: number, log: Logger, audit: AuditTrail, options: { readonly mayGenerate: boolean }): Promise<void> {
  const clients = () => registry.all().filter((s) => s.open && s.role === 'client' && s.agreementKey);
  const holders = clients()
    .filter((s) => s.ckksReady)
    .sort((a, b) => (a.summary.name < b.summary.name ? -1 : 1));
  if (clients().every((s) => s.ckksReady)) return;
  const generate = holders.length === 0;
  if (generate && !options.mayGenerate) {
    // The encrypted global is under the run's key; a fresh key would make it undecryptable for everyone.
    throw new CkksSetupError(
      `no connected client holds this run's CKKS key, and the encrypted global model needs it (keys live only in the memory of the clients that took part): ` +
        'reconnect a client that still holds it, or start a new run',
    );
  }
  let dealer = holders[0];
  if (!dealer) {
    const name = designatedDealer(access, clients());
    if (name === undefined) return;
    const found = await waitForSession(() => clients().find((s) => s.summary.name === name), deadlineMs);
    if (!found) {
      log.warn({ dealer: name }, `the CKKS dealer ${name} (the first client name on the access list) has not connected; no key yet`);
      return;
    }
    dealer = found;
  }
  const recipients = clients().filter((s) => !s.ckksReady && s !== dealer);
  log.info({ dealer: dealer.summary.name, generate, recipients: recipients.map((s) => s.summary.name) }, 'distributing the CKKS key');
  audit.append('ckks-key-distribution', { dealer: dealer.summary.name, generated: generate, epoch: CKKS_KEY_EPOCH, recipients: recipients.map((s) => s.summary.name) });
  const boxes = await dealer.deal(generate, CKKS_KEY_EPOCH, recipients.map(recipientOf), deadlineMs);
  if (generate) dealer.ckksReady = true;
  for (const r of boxes.refused ?? []) {
    log.warn({ dealer: dealer.summary.name, client: r.recipient, reason: r.reason }, 'the key holder refused to box the CKKS key for this client');
    audit.append('ckks-key-refused', { dealer: dealer.summary.name, client: r.recipient, reason: r.reason });
  }
  await Promise.all(
    recipients.map(async (session) => {
      const keyBox = boxes.boxes.find((b) => b.recipient === session.summary.name);
      if (!keyBox) return;
      await session
        .deliverKey({
          type: 'ckks-key',
          dealer: dealer.summary.name,
          epoch: CKKS_KEY_EPOCH,
          dealerIdentityKey: encodeBase64(dealer.publicKey),
          dealerAgreementKey: dealer.agreementKey!.publicKey,
          dealerAgreementSignature: dealer.agreementKey!.signature,
          keyBox,
        })
        .catch((e: unknown) => log.warn({ client: session.summary.name, error: (e as Error).message }, 'client could not open its CKKS key box; it sits out'));
    }),
  );
}

/** Polls for a session (a dealer that has yet to connect) until `timeoutMs`. */
async function waitForSession(find: () => ClientSession | undefined, timeoutMs: number): Promise<ClientSession | undefined> {
  const until = performance.now() + timeoutMs;
  for (let found = find(); ; found = find()) {
    if (found || performance.now() >= until) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How a run's CKKS rounds work: what the global packs, the step clients apply, and distributed DP. */
export interface EncryptedRoundPlan {
  readonly layout: EncryptedLayout;
  readonly step: { readonly serverLearningRate: number; readonly serverMomentum: number };
  /** Client-level DP: the clip norm (fixed or adaptive) and the noise multiplier z the sum must carry. */
  readonly dp?: { readonly clipNorm: number | AdaptiveClipping; readonly noiseMultiplier: number };
}

/** The plan for a strategy, model and privacy setting; throws (saying what to change) when they cannot work. */
export function planEncryptedRounds(strategy: Strategy, parameters: number, dp: EncryptedRoundPlan['dp']): EncryptedRoundPlan {
  const step = strategy.encryptedStep;
  if (!step) throw new CkksSetupError(`strategy ${strategy.name} declares ckks support but no encryptedStep for the clients to apply`);
  const adaptive = dp && typeof dp.clipNorm !== 'number' ? dp.clipNorm : undefined;
  if (adaptive) {
    checkAdaptiveClipping(adaptive);
    updateNoiseMultiplier(dp!.noiseMultiplier, adaptive.countNoiseStd);
  } else if (dp && !((dp.clipNorm as number) > 0)) {
    throw new CkksSetupError(`the DP clip norm must be positive, got ${String(dp.clipNorm)}`);
  }
  return { layout: { parameters, momentum: step.serverMomentum > 0, logClipNorm: adaptive !== undefined }, step, ...(dp ? { dp } : {}) };
}

/**
 * What every client of an m-client cohort is told, apart from its weight. Distributed DP: the m noise shares
 * of std (z / sqrt(m)) C sum to the noise multiplier z; with adaptive clipping the sum takes z_delta and the
 * count sigma_b, split the same way (Andrew et al. 2021, Theorem 1).
 */
export function cohortInstructions(plan: EncryptedRoundPlan, cohort: number): Omit<EncryptedInstructions, 'weight'> {
  const { step, dp } = plan;
  const base = { cohortSize: cohort, serverLearningRate: step.serverLearningRate, serverMomentum: step.serverMomentum };
  if (!dp) return base;
  const root = Math.sqrt(cohort);
  if (typeof dp.clipNorm === 'number') return { ...base, dp: { clipNorm: dp.clipNorm, noiseShare: dp.noiseMultiplier / root } };
  const a = dp.clipNorm;
  return {
    ...base,
    dp: {
      clipNorm: { initialClipNorm: a.initialClipNorm, targetQuantile: a.targetQuantile, learningRate: a.learningRate ?? DEFAULT_CLIP_LEARNING_RATE, countNoiseShare: a.countNoiseStd / root },
      noiseShare: updateNoiseMultiplier(dp.noiseMultiplier, a.countNoiseStd) / root,
    },
  };
}

/**
 * A fit round under CKKS: each selected client uploads weight_k x (its part of the next state), with weight_k
 * its share of the cohort's examples (1/m under DP); arriving ciphertexts go into a key-free running sum
 * (O(model)); the new global is that sum and the committed weights' total, which only clients can decrypt.
 */
export async function runEncryptedFitRound(
  round: number,
  tasks: readonly FitTask[],
  registry: ClientRegistry,
  ctx: CkksContext,
  plan: EncryptedRoundPlan,
  broadcast: EncodedWeights,
  deadlineMs: number,
): Promise<{ reports: FitReport[]; failures: TaskFailure[]; global: EncryptedGlobal | undefined }> {
  const count = layoutLength(plan.layout);
  const sum = new CkksEvaluatorSide(ctx, count);
  try {
    const cohortExamples = tasks.reduce((s, t) => s + t.client.numTrainExamples, 0) || tasks.length;
    // DP weighs clients equally (example counts would scale the sensitivity); otherwise FedAvg's example shares.
    const shares = new Map(tasks.map((t) => [t.client.id, plan.dp ? 1 / tasks.length : (t.client.numTrainExamples || 1) / cohortExamples]));
    const common = cohortInstructions(plan, tasks.length);
    const { reports, failures } = await collectTasks(
      tasks,
      registry,
      (session, task, taskId) => {
        const extra = encryptedExtras({ ...common, weight: shares.get(task.client.id)! });
        const instructions = { ...task.instructions, extra: { ...task.instructions.extra, ...extra } };
        return session.fit(round, taskId, instructions, broadcast, { encrypted: () => sum.accept() });
      },
      deadlineMs,
      'fit',
    );
    if (reports.length === 0) return { reports, failures, global: undefined };
    const ciphertexts = sum.serializeSum();
    const totalWeight = reports.reduce((s, r) => s + shares.get(r.client.id)!, 0);
    return { reports, failures, global: { ciphertexts, totalWeight, layout: plan.layout, sha256: encryptedCheckpointHash(ciphertexts) } };
  } finally {
    sum.dispose();
  }
}

/** The encrypted global, framed for streaming to clients. */
export function encodeEncryptedGlobal(global: EncryptedGlobal, chunkBytes: number): EncodedWeights {
  const chunks = [...ciphertextFrameChunks(global.ciphertexts, chunkBytes)];
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  return { chunks, totalBytes: framedByteLength(global.ciphertexts), sha256: hash.digest('hex'), encrypted: { totalWeight: global.totalWeight, count: layoutLength(global.layout), momentum: global.layout.momentum, logClipNorm: global.layout.logClipNorm } };
}

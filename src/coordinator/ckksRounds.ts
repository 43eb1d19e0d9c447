import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { CkksEvaluatorSide } from '../crypto/ckks/evaluatorSide.js';
import type { CkksContext } from '../crypto/ckks/ckksContext.js';
import { ciphertextFrameChunks, framedByteLength } from '../crypto/ckks/frames.js';
import { encodeBase64 } from '../crypto/keyEncoding.js';
import type { AuditTrail } from './auditTrail.js';
import type { ClientRegistry } from './clientRegistry.js';
import type { ClientSession, EncodedWeights } from './clientSession.js';
import { collectTasks } from './collectTasks.js';
import type { FitReport, FitTask, TaskFailure } from './strategy.js';

export class CkksSetupError extends Error {
  override readonly name = 'CkksSetupError';
}

/** The model as the coordinator holds it under CKKS: the encrypted sum of weighted models, and the weights' total. */
export interface EncryptedGlobal {
  readonly ciphertexts: readonly Uint8Array[];
  readonly totalWeight: number;
  readonly count: number;
  readonly sha256: string;
}

function recipientOf(session: ClientSession) {
  return {
    name: session.summary.name,
    identityKey: encodeBase64(session.publicKey),
    agreementKey: session.agreementKey!.publicKey,
    agreementSignature: session.agreementKey!.signature,
  };
}

/**
 * Has a key holder box the CKKS key for every connected client that lacks it, and relays the boxes. With no
 * holder yet, the dealer is the client whose name sorts first (deterministic, logged) and generates a fresh
 * key for this run. The coordinator relays boxes it cannot open.
 */
export async function distributeCkksKey(registry: ClientRegistry, deadlineMs: number, log: Logger, audit: AuditTrail): Promise<void> {
  const sessions = registry.all().filter((s) => s.open && s.role === 'client' && s.agreementKey);
  const needing = sessions.filter((s) => !s.ckksReady);
  if (needing.length === 0) return;
  const holders = sessions.filter((s) => s.ckksReady).sort((a, b) => a.summary.name.localeCompare(b.summary.name));
  const generate = holders.length === 0;
  const dealer = holders[0] ?? [...needing].sort((a, b) => a.summary.name.localeCompare(b.summary.name))[0]!;
  const recipients = needing.filter((s) => s !== dealer);
  log.info({ dealer: dealer.summary.name, generate, recipients: recipients.map((s) => s.summary.name) }, 'distributing the CKKS key');
  audit.append('ckks-key-distribution', { dealer: dealer.summary.name, generated: generate, recipients: recipients.map((s) => s.summary.name) });
  const boxes = await dealer.deal(generate, recipients.map(recipientOf), deadlineMs);
  if (generate) dealer.ckksReady = true;
  await Promise.all(
    recipients.map(async (session) => {
      const keyBox = boxes.boxes.find((b) => b.recipient === session.summary.name);
      if (!keyBox) {
        log.warn({ client: session.summary.name }, 'the dealer sent no key box for this client');
        return;
      }
      await session
        .deliverKey({
          type: 'ckks-key',
          dealer: dealer.summary.name,
          dealerIdentityKey: encodeBase64(dealer.publicKey),
          dealerAgreementKey: dealer.agreementKey!.publicKey,
          dealerAgreementSignature: dealer.agreementKey!.signature,
          keyBox,
        })
        .catch((e: unknown) => log.warn({ client: session.summary.name, error: (e as Error).message }, 'client could not open its CKKS key box; it sits out'));
    }),
  );
}

/**
 * A fit round under CKKS: each selected client uploads weight_k x model_k encrypted, with weight_k its
 * share of the cohort's examples; arriving ciphertexts go into a key-free running sum (O(model)); the new
 * global is that sum and the committed weights' total, which only clients can turn into a model.
 */
export async function runEncryptedFitRound(
  round: number,
  tasks: readonly FitTask[],
  registry: ClientRegistry,
  ctx: CkksContext,
  parameters: number,
  broadcast: EncodedWeights,
  deadlineMs: number,
  /**
   * Client-level DP split across clients (distributed noise): every selected client weighs 1/m, clips its
   * update to C and adds Gaussian noise of std zC / sqrt(m), so the m shares sum to N(0, (zC)^2).
   */
  dp?: { readonly clipNorm: number; readonly noiseMultiplier: number },
): Promise<{ reports: FitReport[]; failures: TaskFailure[]; global: EncryptedGlobal | undefined }> {
  const sum = new CkksEvaluatorSide(ctx, parameters);
  try {
    const cohortExamples = tasks.reduce((s, t) => s + t.client.numTrainExamples, 0) || tasks.length;
    // DP weighs clients equally (example counts would scale the sensitivity); otherwise FedAvg's example shares.
    const shares = new Map(tasks.map((t) => [t.client.id, dp ? 1 / tasks.length : (t.client.numTrainExamples || 1) / cohortExamples]));
    const noise: Record<string, number> = dp ? { clipNorm: dp.clipNorm, dpNoiseStd: (dp.noiseMultiplier * dp.clipNorm) / Math.sqrt(tasks.length) } : {};
    const { reports, failures } = await collectTasks(
      tasks,
      registry,
      (session, task, taskId) => {
        const share = shares.get(task.client.id)!;
        const instructions = { ...task.instructions, extra: { ...task.instructions.extra, ...noise, ckksWeight: share } };
        return session.fit(round, taskId, instructions, broadcast, { encrypted: () => sum.accept() });
      },
      deadlineMs,
      'fit',
    );
    if (reports.length === 0) return { reports, failures, global: undefined };
    const ciphertexts = sum.serializeSum();
    const totalWeight = reports.reduce((s, r) => s + shares.get(r.client.id)!, 0);
    const hash = createHash('sha256');
    for (const c of ciphertexts) hash.update(c);
    return { reports, failures, global: { ciphertexts, totalWeight, count: parameters, sha256: hash.digest('hex') } };
  } finally {
    sum.dispose();
  }
}

/** The encrypted global, framed for streaming to clients. */
export function encodeEncryptedGlobal(global: EncryptedGlobal, chunkBytes: number): EncodedWeights {
  const chunks = [...ciphertextFrameChunks(global.ciphertexts, chunkBytes)];
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  return { chunks, totalBytes: framedByteLength(global.ciphertexts), sha256: hash.digest('hex'), encrypted: { totalWeight: global.totalWeight, count: global.count } };
}

import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Identity } from '../../src/crypto/identity.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { ask, type Tally } from './fuzzLanes.js';
import { applyMutations, mutationsOf, wireText } from './fuzzMutations.js';
import { disconnected } from './socketPair.js';
import type { HeldTask, TaskHolder } from './taskHolder.js';
import { faultyUploads, sendableWhole, sendUpload, sendUploadWhole, uploadFaultKinds, type UploadContext } from './uploadFaults.js';

const MESSAGE_TYPES = ['hello', 'challenge', 'auth', 'welcome', 'refused', 'fit-failure', 'evaluate-result', 'evaluate-failure', 'run-end', 'statistics-request', 'statistics-failure'];
const record = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) ? (v as Record<string, unknown>) : undefined);

export interface AttackOptions {
  /** Another member's key, to sign with a real key that is not the attacker's. */
  readonly otherSigner: Identity;
  /** The update every faulty upload carries: large, so a leak into the model shows. */
  readonly poison: Weights;
  readonly seed: number;
}

export interface AttackerStats {
  fitTasks: number;
  evaluateTasks: number;
  faults: Record<string, number>;
  /** Valid headers for an open task that the coordinator accepted before refusing the faulty upload. */
  deepUploads: number;
  /** Faulty uploads sent as one whole-stream message. */
  wholeUploads: number;
}

/** The fields of an evaluate result that the coordinator reads (unknown ones are dropped on parsing). */
function evaluateEssence(m: unknown): string {
  const r = record(m);
  if (!r) return wireText(m);
  const { type, round, taskId, numExamples, loss, metrics, signature } = r;
  return wireText({ type, round, taskId, numExamples, loss, metrics, signature });
}

/** The protocol's rule for a fit failure report about `taskId` in `round`, stated independently of its schema. */
function validFitFailure(m: unknown, round: number, taskId: string): boolean {
  const r = record(m);
  return !!r && r.type === 'fit-failure' && wireText(r.round) === String(round) && r.taskId === taskId && typeof r.reason === 'string' && r.reason.length <= 4096;
}

/**
 * A client on the access list answers every task it is given with fuzz: faulty uploads for its fit tasks,
 * mutated fit failures, and forged or mutated results for its evaluate tasks. None may be accepted. It
 * then reports a plain failure, so the round does not wait for its deadline.
 */
export async function attackTasks(holder: TaskHolder, options: AttackOptions, tally: Tally): Promise<AttackerStats> {
  const { otherSigner } = options;
  const stats: AttackerStats = { fitTasks: 0, evaluateTasks: 0, faults: {}, deepUploads: 0, wholeUploads: 0 };
  const pastIds: string[] = [];
  const gone = disconnected(holder.socket).then(() => 'disconnected' as const);
  const input = () => void tally.inputs++;
  for (let n = 0; ; n++) {
    const next: HeldTask | 'run-end' | 'disconnected' = await Promise.race([holder.next(), gone]);
    if (next === 'disconnected') throw new Error('the coordinator disconnected the fuzzing client');
    if (next === 'run-end') {
      holder.close(); // as a client node does, so the coordinator's end of run need not wait for it
      return stats;
    }
    const { round, taskId } = next.meta;
    const otherIds = [...pastIds.slice(-3), randomUUID()];
    const seed = options.seed + n;
    if (next.kind === 'fit') {
      stats.fitTasks++;
      const ctx: UploadContext = {
        round,
        taskId,
        delta: options.poison,
        numExamples: 10,
        otherIds,
        otherSigner,
        sign: (c) => holder.signUpload(c.round, c.taskId, c.kind, { numExamples: c.numExamples, loss: 0.5 }, c.payloadHash, c.signer, c.client),
      };
      // The first attempt meets the open task; it cycles through the kinds of fault behind a valid header,
      // so every kind is met by the coordinator's deep code once in a run. The others find the task over.
      const deepKinds = uploadFaultKinds(ctx).slice(0, -1);
      const first = fc.sample(deepKinds[(stats.fitTasks - 1) % deepKinds.length]!, { numRuns: 1, seed });
      const attempts = [...first, ...fc.sample(faultyUploads(ctx), { numRuns: 5, seed })];
      for (const [i, a] of attempts.entries()) {
        stats.faults[a.fault] = (stats.faults[a.fault] ?? 0) + 1;
        // Every other round, what can go as one whole-stream message does (the receiver's other path).
        const whole = stats.fitTasks % 2 === 0 && sendableWhole(a);
        const acks = await (whole ? sendUploadWhole(holder.socket, a, input) : sendUpload(holder.socket, a, input));
        tally.refused += acks.filter((k) => !k.ok).length;
        if (acks.at(-1)?.ok !== false) throw new Error(`round ${round}: a faulty upload (${a.fault}${whole ? ', sent whole' : ''}) was accepted`);
        if (whole) stats.wholeUploads++;
        // A well-formed header for the open task must get through to the fault behind it (in steps: its own ack).
        if (i === 0) {
          if (!whole && !acks[0]?.ok) throw new Error(`round ${round}: a valid header for the open task was refused (${JSON.stringify(acks[0])})`);
          const refusal = acks[0]?.ok === false ? acks[0].error : '';
          if (whole && /stale or unknown|already has an upload/.test(refusal)) throw new Error(`round ${round}: a whole upload for the open task was refused as if the task were over (${refusal})`);
          stats.deepUploads++;
        }
      }
      const failureBase = { type: 'fit-failure', round, taskId, reason: 'fuzzing' };
      const failures = fc.sample(mutationsOf(failureBase, { ids: otherIds }).map((m) => applyMutations(failureBase, m)), { numRuns: 4, seed });
      for (const f of [...failures, failureBase]) {
        input();
        const ack = await ask(holder.socket, 'msg', [f]);
        const valid = validFitFailure(f, round, taskId);
        // A valid report ends the task, or finds it already ended by a refused upload; an invalid one is refused.
        if (ack.ok ? !valid : valid && !ack.error.startsWith(`no open task ${taskId}`)) {
          throw new Error(`round ${round}: fit failure ${JSON.stringify(f)} got ${JSON.stringify(ack)}`);
        }
        if (!ack.ok) tally.refused++;
      }
    } else {
      stats.evaluateTasks++;
      const claims = { numExamples: 10, loss: 0.75, mse: 0.75 };
      const valid = { type: 'evaluate-result', round, taskId, numExamples: 10, loss: 0.75, metrics: { mse: 0.75 }, signature: holder.signUpload(round, taskId, 'evaluate-result', claims, '') };
      const signature = Buffer.from(valid.signature, 'base64');
      signature[n % 64]! ^= 1;
      const forged = [
        { ...valid, signature: holder.signUpload(round, taskId, 'evaluate-result', claims, '', otherSigner) },
        { ...valid, signature: holder.signUpload(round, taskId, 'evaluate-result', { ...claims, loss: 0.5 }, '') },
        { ...valid, signature: holder.signUpload(round + 1, taskId, 'evaluate-result', claims, '') },
        { ...valid, signature: signature.toString('base64') },
      ];
      const mutated = fc.sample(
        mutationsOf(valid, { ids: otherIds })
          .map((m) => applyMutations(valid, m))
          .filter((m) => evaluateEssence(m) !== evaluateEssence(valid) && !(MESSAGE_TYPES.includes(String(record(m)?.type)) && record(m)?.type !== 'evaluate-result')),
        { numRuns: 16, seed },
      );
      for (const m of [...forged, ...mutated]) {
        input();
        const ack = await ask(holder.socket, 'msg', [m]);
        if (ack.ok) throw new Error(`round ${round}: a forged or mutated evaluate result was accepted: ${JSON.stringify(m).slice(0, 300)}`);
        tally.refused++;
      }
      input();
      const release = await ask(holder.socket, 'msg', [{ type: 'evaluate-failure', round, taskId, reason: 'fuzzing' }]);
      if (!release.ok && !release.error.startsWith(`no open task ${taskId}`)) throw new Error(`round ${round}: evaluate failure got ${JSON.stringify(release)}`);
    }
    pastIds.push(taskId);
  }
}


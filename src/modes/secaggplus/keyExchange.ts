import type { ClientRegistry } from '../../coordinator/clientRegistry.js';
import type { ClientSession } from '../../coordinator/clientSession.js';
import type { FitTask, TaskFailure } from '../../coordinator/strategy.js';
import { TaskError } from '../../coordinator/taskError.js';
import { encodeBase64 } from '../../crypto/keyEncoding.js';
import { graphSeed, neighbourGraph } from '../../crypto/secagg/neighbourGraph.js';
import { verifyRoundKeys } from '../../crypto/secagg/roundKeys.js';
import type { MessageOf } from '../../protocol/messages.js';
import { resolveRound, type SecAggPlusOptions, type SecAggPlusRound } from './settings.js';
import type { MemberKeys } from './unmasking.js';
import { fromBase64 } from './wire.js';

/** A client still in the round, with its session. */
export interface Participant {
  readonly task: FitTask;
  readonly session: ClientSession;
}

/** The round's key exchange as the coordinator saw it: who is still in, the graph, and what failed. */
export interface ExchangedKeys {
  readonly settings: SecAggPlusRound;
  readonly members: ReadonlyMap<string, MemberKeys>;
  readonly graph: ReadonlyMap<string, readonly string[]>;
  /** U2: members whose share boxes went out. */
  readonly shared: ReadonlySet<string>;
  /** Members that hold their neighbours' shares and may upload. */
  readonly ready: readonly Participant[];
  readonly failures: TaskFailure[];
}

/** A stage's failure for one client, typed like a task failure. */
export function failureOf(p: Participant, stage: string, e: unknown): TaskFailure {
  const error = e instanceof TaskError ? e : new TaskError(p.session.open ? 'refused' : 'disconnected', `${stage}: ${(e as Error).message}`);
  return { client: p.task.client, reason: error.reason, detail: error.message };
}

/** Sends one request to each participant; the ones that answer go on, the others become failures. */
export async function stage<R>(participants: readonly Participant[], failures: TaskFailure[], name: string, ask: (p: Participant) => Promise<R>): Promise<{ p: Participant; reply: R }[]> {
  const settled = await Promise.allSettled(participants.map(ask));
  const ok: { p: Participant; reply: R }[] = [];
  settled.forEach((s, i) => (s.status === 'fulfilled' ? ok.push({ p: participants[i]!, reply: s.value }) : failures.push(failureOf(participants[i]!, name, s.reason))));
  return ok;
}

/**
 * SecAgg+ rounds 0 and 1 (Flower's setup and share-keys stages): each selected client makes fresh round keys
 * and signs them; every member's signed keys go to every member, which derives the neighbour graph from their
 * hash and seals shares to its neighbours; the coordinator relays the boxes it cannot open.
 */
export async function exchangeKeys(runId: string, round: number, options: SecAggPlusOptions, tasks: readonly FitTask[], registry: ClientRegistry, timeoutMs: number): Promise<ExchangedKeys> {
  const failures: TaskFailure[] = [];
  const selected: Participant[] = [];
  for (const task of tasks) {
    const session = registry.get(task.client.id);
    if (session) selected.push({ task, session });
    else failures.push({ client: task.client, reason: 'disconnected', detail: 'client left before the SecAgg+ set-up' });
  }
  const keyed = (await stage(selected, failures, 'SecAgg+ set-up', async (p) => {
    const reply = await p.session.request({ type: 'secagg-setup', round }, 'secagg-round-keys', timeoutMs);
    if (reply.round !== round) throw new Error(`round keys for round ${reply.round}, not ${round}`);
    const keys = { runId, round, name: p.task.client.name, encryptionKey: fromBase64(reply.encryptionKey), maskKey: fromBase64(reply.maskKey), selfMaskCommitment: fromBase64(reply.selfMaskCommitment) };
    if (!verifyRoundKeys(p.session.publicKey, fromBase64(reply.signature), keys)) throw new Error('the round keys are not signed by the identity this client proved');
    return { reply, keys };
  })).map(({ p, reply }) => ({ p, ...reply }));
  const settings = resolveRound(options, keyed.length);
  const members = new Map(keyed.map(({ p, reply }) => [p.task.client.name, { maskKey: fromBase64(reply.maskKey), selfMaskCommitment: fromBase64(reply.selfMaskCommitment) }]));
  const memberList = keyed.map(({ p, reply }) => ({
    name: p.task.client.name,
    identityKey: encodeBase64(p.session.publicKey),
    encryptionKey: reply.encryptionKey,
    maskKey: reply.maskKey,
    selfMaskCommitment: reply.selfMaskCommitment,
    signature: reply.signature,
  }));
  const seed = graphSeed(runId, round, settings.neighbours, keyed.map(({ keys }) => ({ name: keys.name, encryptionKey: keys.encryptionKey, maskKey: keys.maskKey })));
  const graph = neighbourGraph([...members.keys()], settings.degree, seed);
  const shareKeys: MessageOf<'secagg-share-keys'> = { type: 'secagg-share-keys', round, neighbours: settings.neighbours, threshold: settings.threshold, members: memberList };
  const sharing = await stage(
    keyed.map((k) => k.p),
    failures,
    'SecAgg+ share keys',
    async (p) => {
      const reply = await p.session.request(shareKeys, 'secagg-shares', timeoutMs);
      const expected = [...graph.get(p.task.client.name)!].sort().join('\n');
      if (reply.round !== round || reply.boxes.map((b) => b.recipient).sort().join('\n') !== expected) throw new Error('the share boxes are not addressed to exactly this client\'s neighbours');
      return reply.boxes;
    },
  );
  const shared = new Set(sharing.map(({ p }) => p.task.client.name));
  const ready = await stage(
    sharing.map((s) => s.p),
    failures,
    'SecAgg+ share delivery',
    async (p) => {
      const me = p.task.client.name;
      const boxes = sharing.flatMap(({ p: sender, reply }) => reply.filter((b) => b.recipient === me).map((b) => ({ sender: sender.task.client.name, nonce: b.nonce, ciphertext: b.ciphertext })));
      await p.session.deliver({ type: 'secagg-forward', round, boxes });
    },
  );
  return { settings, members, graph, shared, ready: ready.map((r) => r.p), failures };
}

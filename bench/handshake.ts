/**
 * The cost of the mutual challenge-response (src/crypto/handshake.ts): `clients` nodes connect to one
 * Coordinator whose access list names each of their keys, one after another and all at once, and each
 * one's time to be admitted is measured three ways, in the same run:
 *   - plain: a socket.io websocket connect and nothing else (the floor every connection pays);
 *   - handshake: that connect, then hello -> challenge and auth -> welcome, played on the raw socket so the
 *     phases can be timed apart;
 *   - client node: `startClient` (what a site runs) from the call to its 'welcome' event.
 * Then one Ed25519 `sign` and one `verify` (src/crypto/identity.ts) are timed alone, to split the handshake's
 * extra cost over a plain connect into signatures and everything else (JSON, zod, transcript, round trips).
 *
 *   npx tsx bench/handshake.ts [--clients 50] [--runs 3] [--warmup 5] [--crypto-ops 2_000]
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { startClient } from '../src/client/clientNode.js';
import { AccessList } from '../src/coordinator/accessList.js';
import { Coordinator } from '../src/coordinator/coordinator.js';
import { FedAvg } from '../src/coordinator/strategies/fedAvg.js';
import { clientProof, coordinatorProof, NONCE_BYTES, type HandshakeContext } from '../src/crypto/handshake.js';
import { generateIdentity, sign, verify, type Identity } from '../src/crypto/identity.js';
import { encodeBase64 } from '../src/crypto/keyEncoding.js';
import type { TensorSpec } from '../src/protocol/tensors.js';
import { COHORT_VERSION, PROTOCOL_VERSION } from '../src/protocol/version.js';
import { benchArgs } from './lib/args.js';
import { ConstantStepTrainer } from './lib/constantStepTrainer.js';
import { isMain } from './lib/isMain.js';
import { printResult } from './lib/result.js';
import { median } from './lib/stats.js';
import { formatTable, ratio } from './lib/table.js';

export interface HandshakeBenchOptions {
  /** Nodes admitted per measurement, each with its own key on the access list. */
  readonly clients: number;
  /** Measured repetitions of every measurement (each admits all `clients` again). */
  readonly runs: number;
  /** Handshakes of each kind run unmeasured first (JIT, key caches, socket pools). */
  readonly warmup: number;
  /** Signatures and verifications timed alone for the breakdown. */
  readonly cryptoOps: number;
}

const SPEC: TensorSpec[] = [{ name: 'w', shape: [4] }];
const silent = pino({ level: 'silent' });

/** Milliseconds each phase of one admission took. */
interface Timing {
  readonly total: number;
  readonly connect?: number;
  readonly hello?: number;
  readonly auth?: number;
}

type Admit = (url: string, i: number) => Promise<{ timing: Timing; close: () => void }>;

function connectSocket(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** The next control message of `type` on a raw socket. */
function nextMessage<T>(socket: Socket, type: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (m: { type?: string }) => {
      if (m?.type !== type) return;
      socket.off('msg', listener);
      resolve(m as T);
    };
    socket.on('msg', listener);
  });
}

const plainConnect: Admit = async (url) => {
  const t0 = performance.now();
  const socket = await connectSocket(url);
  return { timing: { total: performance.now() - t0 }, close: () => socket.disconnect() };
};

/** The client's side of the handshake on a raw socket, as src/client/clientNode.ts plays it (coordinator key pinned). */
function rawHandshake(identities: readonly Identity[], coordinatorKey: Uint8Array): Admit {
  return async (url, i) => {
    const identity = identities[i]!;
    const name = `site-${i}`;
    const t0 = performance.now();
    const socket = await connectSocket(url);
    const t1 = performance.now();
    const clientNonce = new Uint8Array(randomBytes(NONCE_BYTES));
    const challenge = nextMessage<{ runId: string; coordinatorKey: string; nonce: string; signature: string }>(socket, 'challenge');
    const welcome = nextMessage(socket, 'welcome');
    socket.emit('msg', {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      name,
      identityKey: encodeBase64(identity.publicKey),
      nonce: encodeBase64(clientNonce),
      capabilities: { backend: 'bench', numTrainExamples: 1, numTestExamples: 1, cohortVersion: COHORT_VERSION },
      modelSpec: SPEC,
    });
    const c = await challenge;
    const context: HandshakeContext = {
      runId: c.runId,
      protocolVersion: PROTOCOL_VERSION,
      clientName: name,
      clientKey: identity.publicKey,
      clientNonce,
      coordinatorKey: new Uint8Array(Buffer.from(c.coordinatorKey, 'base64')),
      coordinatorNonce: new Uint8Array(Buffer.from(c.nonce, 'base64')),
    };
    if (!Buffer.from(context.coordinatorKey).equals(Buffer.from(coordinatorKey))) throw new Error('the coordinator presented another key');
    if (!verify(coordinatorProof(context), new Uint8Array(Buffer.from(c.signature, 'base64')), coordinatorKey)) throw new Error('the challenge does not verify');
    const t2 = performance.now();
    socket.emit('msg', { type: 'auth', signature: encodeBase64(sign(clientProof(context), identity.secretKey)) });
    await welcome;
    const t3 = performance.now();
    return { timing: { total: t3 - t0, connect: t1 - t0, hello: t2 - t1, auth: t3 - t2 }, close: () => socket.disconnect() };
  };
}

/** A full client node (src/client/clientNode.ts) with a trivial trainer, until its 'welcome' event. */
function clientNode(identities: readonly Identity[], coordinatorKey: Uint8Array): Admit {
  return (url, i) =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const handle = startClient({
        url,
        name: `site-${i}`,
        trainer: new ConstantStepTrainer(SPEC, 0.25, 1),
        identity: identities[i]!,
        coordinatorKey,
        logger: silent,
        onEvent: (e) => {
          if (e.type === 'welcome') resolve({ timing: { total: performance.now() - t0 }, close: () => void handle.stop() });
          if (e.type === 'refused') reject(new Error(`refused: ${e.reason}`));
        },
      });
    });
}

/** Admits `n` nodes one after another; returns each one's timing. */
async function sequential(url: string, n: number, admit: Admit): Promise<Timing[]> {
  const admitted = [];
  for (let i = 0; i < n; i++) admitted.push(await admit(url, i));
  for (const a of admitted) a.close();
  return admitted.map((a) => a.timing);
}

/** Admits `n` nodes at once; returns each one's timing and the wall time until the last was in. */
async function concurrent(url: string, n: number, admit: Admit): Promise<{ timings: Timing[]; wallMs: number }> {
  const t0 = performance.now();
  const admitted = await Promise.all(Array.from({ length: n }, (_, i) => admit(url, i)));
  const wallMs = performance.now() - t0;
  for (const a of admitted) a.close();
  return { timings: admitted.map((a) => a.timing), wallMs };
}

const percentile = (xs: readonly number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;
const us = (x: number) => `${x.toFixed(1)} us`;

/** Median time of one call of `op` over `count` calls (microseconds), after `count / 10` unmeasured. */
function microsEach(count: number, op: (i: number) => unknown): number {
  for (let i = 0; i < Math.ceil(count / 10); i++) op(i);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) op(i);
  return ((performance.now() - t0) * 1000) / count;
}

export async function benchHandshake(o: HandshakeBenchOptions): Promise<void> {
  console.log(`\n## Handshake: ${o.clients} nodes admitted by a coordinator whose access list names ${o.clients} keys`);
  console.log(`node ${process.version}, OpenSSL ${process.versions.openssl}; loopback websocket; medians over ${o.runs} runs of ${o.clients} nodes after ${o.warmup} unmeasured admissions of each kind`);
  const identities = Array.from({ length: o.clients }, () => generateIdentity());
  const coordinator = await Coordinator.start({
    strategy: new FedAvg({ minFitClients: 1, fit: { epochs: 1, batchSize: 1, learningRate: 0.1 } }),
    initialWeights: SPEC.map((t) => ({ ...t, data: new Float32Array(4) })),
    rounds: 1,
    access: AccessList.of(identities.map((id, i) => ({ name: `site-${i}`, publicKey: id.publicKey, role: 'client' as const }))),
    logger: silent,
    helloTimeoutMs: 60_000,
    maxConnectionsPerMinute: 1_000_000,
    maxPendingHandshakes: 100_000,
  });
  const kinds: { name: string; admit: Admit }[] = [
    { name: 'plain socket.io connect', admit: plainConnect },
    { name: 'handshake (raw socket)', admit: rawHandshake(identities, coordinator.identity.publicKey) },
    { name: 'client node (startClient)', admit: clientNode(identities, coordinator.identity.publicKey) },
  ];
  const seq = new Map<string, Timing[]>();
  const par = new Map<string, { perClient: number[]; latency: number[] }>();
  try {
    for (const { name, admit } of kinds) {
      await sequential(coordinator.url, Math.min(o.warmup, o.clients), admit);
      const s: Timing[] = [];
      const p = { perClient: [] as number[], latency: [] as number[] };
      for (let r = 0; r < o.runs; r++) {
        // Let the coordinator see the last run's sockets close before the next run reuses the names.
        await new Promise((resolve) => setTimeout(resolve, 100));
        s.push(...(await sequential(coordinator.url, o.clients, admit)));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const c = await concurrent(coordinator.url, o.clients, admit);
        p.perClient.push(c.wallMs / o.clients);
        p.latency.push(median(c.timings.map((t) => t.total)));
      }
      seq.set(name, s);
      par.set(name, p);
    }
  } finally {
    await coordinator.close();
  }

  const rows = kinds.map(({ name }) => {
    const s = seq.get(name)!.map((t) => t.total);
    const p = par.get(name)!;
    return [name, ms(median(s)), ms(percentile(s, 0.9)), ms(median(p.perClient)), ms(median(p.latency))];
  });
  console.log();
  console.log(formatTable(['admission', 'sequential median', 'sequential p90', `${o.clients} at once: wall / node`, `${o.clients} at once: median latency`], rows));

  const raw = seq.get(kinds[1]!.name)!;
  const phase = (k: 'connect' | 'hello' | 'auth') => median(raw.map((t) => t[k]!));
  console.log();
  console.log(
    formatTable(
      ['handshake phase (sequential, raw socket)', 'median', 'what runs'],
      [
        ['socket.io connect', ms(phase('connect')), 'TCP + websocket upgrade + socket.io CONNECT'],
        ['hello -> challenge (verified)', ms(phase('hello')), 'zod, access list, spec check, 1 coordinator sign; 1 client verify'],
        ['auth -> welcome', ms(phase('auth')), '1 client sign; 1 coordinator verify, session, audit'],
      ],
    ),
  );

  // Signatures alone, on the messages the handshake signs (a transcript of about 200 bytes).
  const context: HandshakeContext = {
    runId: coordinator.runId,
    protocolVersion: PROTOCOL_VERSION,
    clientName: 'site-0',
    clientKey: identities[0]!.publicKey,
    clientNonce: new Uint8Array(randomBytes(NONCE_BYTES)),
    coordinatorKey: coordinator.identity.publicKey,
    coordinatorNonce: new Uint8Array(randomBytes(NONCE_BYTES)),
  };
  const message = clientProof(context);
  const signature = sign(message, identities[0]!.secretKey);
  const signUs = microsEach(o.cryptoOps, () => sign(message, identities[0]!.secretKey));
  const verifyUs = microsEach(o.cryptoOps, () => verify(message, signature, identities[0]!.publicKey));
  // A key's first verification parses it into a KeyObject: what the coordinator pays once per new client.
  const fresh = Array.from({ length: Math.min(o.cryptoOps, 500) }, () => generateIdentity());
  const freshSigs = fresh.map((id) => sign(message, id.secretKey));
  const t0 = performance.now();
  fresh.forEach((id, i) => verify(message, freshSigs[i]!, id.publicKey));
  const firstVerifyUs = ((performance.now() - t0) * 1000) / fresh.length;
  const transcriptUs = microsEach(o.cryptoOps, () => clientProof(context));

  const plainMs = median(seq.get(kinds[0]!.name)!.map((t) => t.total));
  const handshakeMs = median(raw.map((t) => t.total));
  const extraMs = handshakeMs - plainMs;
  // Per handshake: the coordinator signs its challenge and verifies the auth (first use of the client's key);
  // the client verifies the challenge (first use of the coordinator's key, cached afterwards) and signs.
  const cryptoMs = (2 * signUs + verifyUs + firstVerifyUs + 4 * transcriptUs) / 1000;
  console.log();
  console.log(
    formatTable(
      ['operation', 'each', 'per handshake'],
      [
        ['Ed25519 sign (identity.ts)', us(signUs), '2 (challenge, auth)'],
        ['Ed25519 verify, cached key', us(verifyUs), '1 (client checks the challenge)'],
        ['Ed25519 verify, first use of a key', us(firstVerifyUs), '1 (coordinator checks a new client)'],
        ['transcript (clientProof)', us(transcriptUs), '4 (each side builds both proofs)'],
        ['all of the above', us(cryptoMs * 1000), `${((100 * cryptoMs) / extraMs).toFixed(0)}% of the ${ms(extraMs)} the handshake adds to a plain connect`],
      ],
    ),
  );

  const nodeMs = median(seq.get(kinds[2]!.name)!.map((t) => t.total));
  const parPlain = median(par.get(kinds[0]!.name)!.perClient);
  const parHandshake = median(par.get(kinds[1]!.name)!.perClient);
  console.log();
  console.log(
    formatTable(
      ['ratio', 'this run'],
      [
        ['handshake / plain connect, sequential', ratio(handshakeMs / plainMs)],
        ['client node / plain connect, sequential', ratio(nodeMs / plainMs)],
        [`handshake / plain connect, ${o.clients} at once (wall / node)`, ratio(parHandshake / parPlain)],
      ],
    ),
  );
  // This process hosts both ends, so the measured times include the clients' crypto too; a coordinator pays
  // only its own share per admitted node.
  const coordinatorUs = signUs + firstVerifyUs + 2 * transcriptUs;
  console.log();
  console.log(
    `admitting ${o.clients} nodes: ${ms(handshakeMs * o.clients)} one after another, ${ms(parHandshake * o.clients)} all at once (both ends in this one process); ` +
      `signatures are ${((100 * cryptoMs) / handshakeMs).toFixed(0)}% of a handshake, the rest is the connection, JSON and validation, and two round trips`,
  );
  console.log(
    `the coordinator's own crypto per node: 1 sign + 1 first-use verify + 2 transcripts = ${us(coordinatorUs)}, ` +
      `a ceiling of about ${Math.round(1e6 / coordinatorUs).toLocaleString('en')} handshakes/s on one core from signatures alone`,
  );
  console.log();
  printResult('handshake.vs_plain_connect_sequential', handshakeMs / plainMs, 'x', 'none set: the cost of mutual authentication per connection');
  printResult('handshake.vs_plain_connect_parallel', parHandshake / parPlain, 'x', `none set (${o.clients} clients at once)`);
}

if (isMain(import.meta.url)) {
  const args = benchArgs(['clients', 'runs', 'warmup', 'crypto-ops']);
  await benchHandshake({
    clients: args.number('clients', 50),
    runs: args.number('runs', 3),
    warmup: args.number('warmup', 5, 0),
    cryptoOps: args.number('crypto-ops', 2_000),
  });
}

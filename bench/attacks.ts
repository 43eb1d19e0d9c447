/**
 * The attack suite of issue 14 (items 1-6), bounded and on loopback only: for each attack, a federation of
 * two legitimate client processes trains a 1M-parameter model for a few rounds while a forked attacker keeps
 * the attack going from 127.0.0.2-5. Printed next to a run without attack: the legitimate round times, the
 * coordinator's peak RSS and open descriptors (this process: the coordinator alone), its audit log's growth,
 * whether both legitimate clients took part in every round, and how long they took to join while attacked.
 *
 *   npx tsx bench/attacks.ts [--params 1_000_000] [--rounds 5] [--only squat|deep-json|conn-flood|refusal-flood|stall]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { openAuditTrail } from '../src/cli/nodeSecurity.js';
import { Coordinator } from '../src/coordinator/coordinator.js';
import { FedAvg } from '../src/coordinator/strategies/fedAvg.js';
import { generateIdentity } from '../src/crypto/identity.js';
import { sizeOfShape, type Weights } from '../src/protocol/tensors.js';
import type { AttackConfig, AttackName } from './attackerProcess.js';
import { benchArgs } from './lib/args.js';
import { benchSpec } from './lib/modelSpec.js';
import { formatTable } from './lib/table.js';
import type { ClientConfig, ClientReport } from './roundTripClient.js';

const args = benchArgs(['params', 'rounds'] as const, [], ['only']);
const PARAMS = args.number('params', 1_000_000, 2_000);
const ROUNDS = args.number('rounds', 5);
const ATTACKS: readonly { name: AttackName; item: string }[] = [
  { name: 'squat', item: '1-2: idle sockets hold all 64 handshake slots (4 addresses)' },
  { name: 'deep-json', item: '3: nested JSON before login (1 MB and 240 kB frames), 4 lanes' },
  { name: 'conn-flood', item: '4: 2,000 half-sent upgrades / engine.io-only connections' },
  { name: 'refusal-flood', item: '5: refused hellos as fast as accepted (16 lanes)' },
  { name: 'stall', item: '6: two clients stall mid-upload (socket open)' },
];
const only = args.text('only');
if (only !== undefined && !ATTACKS.some((a) => a.name === only)) throw new Error(`--only takes one of ${ATTACKS.map((a) => a.name).join(', ')}`);

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const openFds = () => readdirSync('/proc/self/fd').length;

interface Outcome {
  readonly roundSeconds: number[];
  readonly peakRss: number;
  readonly peakFds: number;
  readonly auditBytes: number;
  readonly legitEveryRound: boolean;
  readonly refusals: number;
  readonly attackerOpened: number;
  /** From forking the two client processes to both being welcomed (process start-up included). */
  readonly joinSeconds: number;
}

function initial(params: number): Weights {
  return benchSpec(params).map((t) => ({ name: t.name, shape: t.shape, data: new Float32Array(sizeOfShape(t.shape)) }));
}

async function measure(attack: AttackName | undefined): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-attacks-'));
  const identity = generateIdentity();
  const auditPath = join(dir, 'coordinator.audit.jsonl');
  const audit = openAuditTrail(auditPath, identity, pino({ level: 'silent' }));
  const rounds: number[] = [];
  const participants: string[][] = [];
  const coordinator = await Coordinator.start({
    strategy: new FedAvg({ minFitClients: 2, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
    initialWeights: initial(PARAMS),
    rounds: ROUNDS,
    roundTimeoutMs: 30_000,
    transfer: { streamIdleTimeoutMs: 2_000 },
    identity,
    audit,
    logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }, pino.destination(2)),
    onRound: (r) => {
      rounds.push(r.durationMs / 1000);
      participants.push(r.fit.outcomes.filter((o) => !o.failure).map((o) => o.client));
    },
  });
  const children: ChildProcess[] = [];
  let attackerOpened = 0;
  try {
    if (attack) {
      const config: AttackConfig = { url: coordinator.url, attack, params: PARAMS };
      const attacker = fork(here('./attackerProcess.ts'), [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
      attacker.on('message', (m: { opened: number }) => (attackerOpened = m.opened));
      children.push(attacker);
      // The attack reaches its full strength before the legitimate clients try to join.
      await new Promise((r) => setTimeout(r, 3_000));
    }
    const forked = performance.now();
    const joined = Array.from({ length: 2 }, (_, k) => {
      const config: ClientConfig = { url: coordinator.url, name: `hospital-${k}`, params: PARAMS, step: 0.25, examples: 100, chunkBytes: 1 << 20, window: 4, ackTimeoutMs: 60_000, coordinatorKey: Buffer.from(identity.publicKey).toString('base64') };
      const child = fork(here('./roundTripClient.ts'), [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      children.push(child);
      return new Promise<void>((resolve) => child.on('message', (m: ClientReport) => m.type === 'welcome' && resolve()));
    });
    await Promise.all(joined);
    const joinSeconds = (performance.now() - forked) / 1000;
    const auditBefore = statSync(auditPath).size;
    let peakRss = process.memoryUsage().rss;
    let peakFds = openFds();
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      peakFds = Math.max(peakFds, openFds());
    }, 100);
    await coordinator.run();
    clearInterval(sampler);
    coordinator.flushRefusals();
    const legit = ['hospital-0', 'hospital-1'];
    return {
      roundSeconds: rounds,
      peakRss,
      peakFds,
      auditBytes: statSync(auditPath).size - auditBefore,
      legitEveryRound: participants.length === ROUNDS && participants.every((p) => legit.every((c) => p.includes(c))),
      refusals: coordinator.refusals,
      attackerOpened,
      joinSeconds,
    };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await coordinator.close();
    audit.close();
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

console.log(`\n## Attack suite: 2 legitimate clients, ${PARAMS.toLocaleString('en')} float32 params, ${ROUNDS} rounds per row, loopback (attackers on 127.0.0.2-5)`);
console.log(`node ${process.version}; coordinator in this process (pid ${process.pid}); clients and attacker forked; stream idle timeout 2 s`);
// A first run warms the caches (tsx, the model's buffers) and is not shown; the baseline runs first and last.
await measure(undefined);
const baseline = await measure(undefined);
const rows: string[][] = [];
const row = (name: string, o: Outcome) => {
  const m = median(o.roundSeconds);
  rows.push([
    name,
    `${o.joinSeconds.toFixed(1)} s`,
    `${m.toFixed(2)} s`,
    `${(m / median(baseline.roundSeconds)).toFixed(2)}x`,
    `${Math.max(...o.roundSeconds).toFixed(2)} s`,
    `${(o.peakRss / 1e6).toFixed(0)} MB`,
    String(o.peakFds),
    `${(o.auditBytes / 1e3).toFixed(1)} kB`,
    String(o.refusals),
    String(o.attackerOpened),
    o.legitEveryRound ? 'yes' : 'NO',
  ]);
};
row('none (baseline)', baseline);
for (const a of ATTACKS) {
  if (only !== undefined && a.name !== only) continue;
  console.log(`  running ${a.name} (item ${a.item})...`);
  row(`${a.name} (item ${a.item.split(':')[0]})`, await measure(a.name));
}
row('none (again, for the noise)', await measure(undefined));
console.log('');
console.log(formatTable(['attack', 'clients joined in', 'median round', 'vs baseline', 'slowest round', 'peak RSS', 'peak fds', 'audit growth', 'refusals', 'attacker conns', 'legit clients in every round'], rows));
for (const a of ATTACKS) console.log(`  ${a.name}: item ${a.item}`);
process.exit(0);

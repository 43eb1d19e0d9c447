/**
 * Simulation at scale: N virtual clients (default 1,000) over real loopback sockets in one process, a
 * small model, fraction sampling, the clients hosted in the coordinator's thread (--workers 0) or spread
 * over worker threads. Prints each round's time split and the process's peak RSS (worker threads included:
 * they share the process) against the per-client share, so growth with N is visible.
 *   npx tsx bench/scale.ts [--clients 1000] [--rounds 3] [--fraction 0.01] [--epochs 1] [--workers auto|N]
 * More local epochs make rounds training-bound, which is what worker threads spread over the cores.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { experimentConfigSchema } from '../src/cli/config/experimentConfig.js';
import { simulate } from '../src/cli/simulate.js';
import { createSeededRng } from '../src/protocol/seededRng.js';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' }, fraction: { type: 'string', default: '0.01' }, workers: { type: 'string', default: 'auto' }, epochs: { type: 'string', default: '1' } } });
const workers = values.workers === 'auto' ? 'auto' : Number(values.workers);
const clients = Number(values.clients);
const rows = clients * 20;
const dir = mkdtempSync(join(tmpdir(), 'cohort-scale-'));
const rng = createSeededRng(1);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat());
const lines = [`${Array.from({ length: 10 }, (_, i) => `x${i}`).join(',')},label`];
for (let r = 0; r < rows; r++) {
  const x = Array.from({ length: 10 }, gauss);
  lines.push(`${x.map((v) => v.toFixed(4)).join(',')},${x[0]! + 0.5 * x[1]! - x[2]! + 0.5 * gauss() > 0 ? 1 : 0}`);
}
writeFileSync(join(dir, 'synthetic.csv'), `${lines.join('\n')}\n`);

const peak = { rss: 0 };
const sampler = setInterval(() => (peak.rss = Math.max(peak.rss, process.memoryUsage().rss)), 50);
const started = performance.now();
const config = experimentConfigSchema.parse({
  name: `scale-${clients}`,
  seed: 1,
  rounds: Number(values.rounds),
  backend: 'wasm',
  logLevel: 'error',
  model: { type: 'mlp', hidden: [8], outputs: 1 },
  training: { epochs: Number(values.epochs), batchSize: 10, learningRate: 0.05 },
  strategy: { fractionFit: Number(values.fraction), fractionEvaluate: Number(values.fraction), minFitClients: Math.max(1, Math.round(clients * Number(values.fraction))), minAvailableClients: clients },
  coordinator: { roundTimeoutSeconds: 300, waitForClientsSeconds: 600 },
  standardization: 'none',
  dataDefaults: { path: join(dir, 'synthetic.csv'), label: 'label', testFraction: 0.25, seed: 3 },
  partition: { type: 'iid', clients },
  centralBaseline: false,
  simulation: { workers },
});
const result = await simulate(config, { print: (l) => /^round|^bytes|worker threads host|coordinator's thread/.test(l) && console.log(l) });
clearInterval(sampler);
const rss = process.resourceUsage().maxRSS * 1024;
console.log(`\n${clients} clients, ${result.run.history.length} rounds in ${((performance.now() - started) / 1000).toFixed(1)} s (connecting included)`);
console.log(`peak RSS ${(Math.max(rss, peak.rss) / 1e6).toFixed(0)} MB = ${(Math.max(rss, peak.rss) / clients / 1e3).toFixed(0)} kB per client (each holds its model, data tensors and socket)`);
process.exit(0);

/**
 * Which SecAgg+ settings survive a round that loses 40 % of 100 clients by the unmask step (10 % before uploading,
 * 30 % after): the share of random rounds (graph and dropouts drawn afresh) in which every survivor, and every
 * client that left before uploading but masked with a survivor, keeps at least t revealing neighbours, and at
 * least t survivors sign the survivor set. Pure counting over the real neighbour graph; no crypto.
 *
 *   npx tsx bench/secaggplusDropoutTolerance.ts [--trials 200] [--clients 100] [--before 0.1] [--after 0.3]
 */
import { randomBytes, randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { neighbourGraph } from '../src/crypto/secagg/neighbourGraph.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '200' }, clients: { type: 'string', default: '100' }, before: { type: 'string', default: '0.1' }, after: { type: 'string', default: '0.3' } } });
const n = Number(values.clients);
const trials = Number(values.trials);
const before = Math.round(n * Number(values.before));
const after = Math.round(n * Number(values.after));
const names = Array.from({ length: n }, (_, i) => `c${i}`);

function recovers(degree: number, threshold: number): boolean {
  const graph = neighbourGraph(names, degree, new Uint8Array(randomBytes(32)));
  const order = [...names];
  for (let i = order.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const leftBefore = new Set(order.slice(0, before));
  const leftAfter = new Set(order.slice(before, before + after));
  const revealing = (name: string) => !leftBefore.has(name) && !leftAfter.has(name);
  if (n - before - after < threshold) return false;
  for (const v of names) {
    const neighbours = graph.get(v)!;
    const survivor = !leftBefore.has(v);
    if (!survivor && !neighbours.some((u) => !leftBefore.has(u))) continue;
    if (neighbours.filter(revealing).length < threshold) return false;
  }
  return true;
}

console.log(`${n} clients, ${before} leave before upload and ${after} after, ${trials} random rounds per row\n`);
console.log('| k (neighbours) | t | rounds that recover |');
console.log('| --- | --- | --- |');
for (const k of [20, 30, 40, 60, 80, 90, 96, 98]) {
  const degree = Math.min(k, n - 1);
  // The least t (just above k / 2), the default (floor(2k / 3) + 1), and a few in between for the dense graphs.
  const between = degree >= 80 ? [Math.floor(0.55 * degree), Math.floor(0.6 * degree)] : [];
  const thresholds = [...new Set([Math.floor(degree / 2) + 1, ...between, Math.floor((2 * degree) / 3) + 1])];
  for (const t of thresholds) {
    let ok = 0;
    for (let i = 0; i < trials; i++) if (recovers(k, t)) ok++;
    const label = t === Math.floor((2 * degree) / 3) + 1 ? ' (default)' : t === Math.floor(degree / 2) + 1 ? ' (least)' : '';
    console.log(`| ${k} | ${t}${label} | ${ok} of ${trials} |`);
  }
}

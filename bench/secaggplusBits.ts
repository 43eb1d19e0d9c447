/**
 * SecAgg+ ring width against accuracy on the breast-cancer federation (examples/breast-cancer/experiment.yaml: three
 * hospitals, 10 rounds, seed 42): plain next to secaggplus at b = 32 and at narrower rings, with the pooled and
 * mean per-client test accuracy and the payload bytes a client streams per round (weights down, packed update up).
 * A narrower ring rounds each weighted value to a step of 2 clippingRange / floor((2^b - 1) / n), so the runs at
 * 16 bits are shown at the default clippingRange 8 and at a tighter one.
 *
 *   npx tsx bench/secaggplusBits.ts [--configs plain,32,16,16:1,12:1]
 */
import { fileURLToPath } from 'node:url';
import { experimentConfigSchema } from '../src/cli/config/experimentConfig.js';
import { loadConfig } from '../src/cli/config/loadConfig.js';
import { simulate } from '../src/cli/simulate.js';
import { benchArgs } from './lib/args.js';

const args = benchArgs([] as const, [], ['configs']);
const configs = (args.text('configs') ?? 'plain,32,16,16:1,12:1').split(',');
const baseDir = fileURLToPath(new URL('../examples/breast-cancer/', import.meta.url));
const base = loadConfig(`${baseDir}experiment.yaml`, experimentConfigSchema);
const rows: string[] = [];
for (const c of configs) {
  const [bits, range] = c.split(':');
  const config = experimentConfigSchema.parse({
    ...base,
    backend: 'cpu',
    logLevel: 'silent',
    centralBaseline: false,
    ...(bits === 'plain' ? {} : { secureAggregation: 'secaggplus', secaggplus: { bits: Number(bits), ...(range ? { clippingRange: Number(range) } : {}) } }),
  });
  const r = await simulate(config, { baseDir, print: () => undefined });
  const rounds = r.run.history.length;
  const perClientRound = r.bytesOnWire / rounds / config.clients!.length;
  const label = bits === 'plain' ? 'plain' : `secaggplus b = ${bits}, clippingRange ${range ?? 8}`;
  rows.push(`| ${label} | ${(100 * r.pooledAccuracy!).toFixed(2)}% | ${(100 * r.meanClientAccuracy!).toFixed(2)}% | ${Math.round(perClientRound).toLocaleString('en')} B |`);
  console.log(rows[rows.length - 1]);
}
console.log('\n| breast cancer, 3 hospitals, 10 rounds | pooled test accuracy | mean per-client | payload bytes a client streams per round |');
console.log('| --- | --- | --- | --- |');
for (const row of rows) console.log(row);

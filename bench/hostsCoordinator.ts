/**
 * One side of bench/hosts.ts, in its own process so that its peak RSS is the coordinator's alone: runs
 * `cohort coordinator` on the experiment given, then prints its figures as JSON on the last line.
 *
 *   node --import tsx bench/hostsCoordinator.ts <experiment.yaml> [--simulate]
 *
 * With --simulate it runs the whole experiment in this one process instead (`cohort simulate`: coordinator
 * and every virtual client), the single-process run the hosts' model is compared with.
 */
import { experimentConfigSchema } from '../src/cli/config/experimentConfig.js';
import { loadConfig } from '../src/cli/config/loadConfig.js';
import { runCoordinator } from '../src/cli/runCoordinator.js';
import { configBaseDir, simulate } from '../src/cli/simulate.js';
import { weightsHash } from '../src/coordinator/weightsHash.js';
import { maxRssBytes } from './lib/rss.js';

const path = process.argv[2];
if (!path) throw new Error('usage: hostsCoordinator.ts <experiment.yaml>');
let startRss = 0;
const print = (line: string) => {
  // Before any client: what the coordinator holds with no one connected (model, server, tfjs).
  if (line.includes('listening on')) startRss = process.memoryUsage.rss();
  console.log(line);
};
const config = loadConfig(path, experimentConfigSchema);
const run = process.argv[3] === '--simulate' ? (await simulate(config, { baseDir: configBaseDir(path), print })).run : await runCoordinator(config, print, path);
console.log(
  JSON.stringify({
    weights: weightsHash(run.weights),
    rounds: run.history.map((r) => r.durationMs / 1000),
    startRssBytes: startRss,
    peakRssBytes: maxRssBytes(),
  }),
);
process.exit(0);

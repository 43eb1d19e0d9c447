/**
 * One client node of bench/perClient.ts, in its own process: the breast-cancer table (shipped in
 * examples/breast-cancer/data), rows `index`, `index + clients`, ... of its training split, an MLP of about
 * `params` parameters (bench/lib/mlpModel.ts: 30 features, two ReLU layers) trained by TfjsTrainer on the wasm
 * backend. Once the run ends it writes the final model it keeps (what `cohort client` writes as its model file)
 * as raw float32, for the parent to compare with the coordinator's last global.
 *
 *   (forked by perClient.ts) perClientClient.ts '<PerClientNodeConfig as JSON>'
 */
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../src/client/backend/index.js';
import { startClient } from '../src/client/clientNode.js';
import { loadCsvData } from '../src/client/data/loadCsvData.js';
import { takeRows, type TabularData } from '../src/client/data/tabular.js';
import { tabularTensors } from '../src/client/tabularTrainer.js';
import { TfjsTrainer } from '../src/client/tfjsTrainer.js';
import { publicKeyFromBase64 } from '../src/crypto/identity.js';
import type { Trainer } from '../src/client/trainer.js';
import { ConstantStepTrainer } from './lib/constantStepTrainer.js';
import { buildMlp, mlpSpec } from './lib/mlpModel.js';
import { PhaseTimedTrainer, type RoundPhases } from './lib/phaseTimedTrainer.js';
import { writeFlat } from './lib/shiftModel.js';

export interface PerClientNodeConfig {
  readonly url: string;
  readonly name: string;
  readonly index: number;
  readonly clients: number;
  readonly params: number;
  readonly coordinatorKey: string;
  /** Where to write the final model this node keeps (raw float32). */
  readonly modelOut: string;
  /** 'tfjs': train the MLP; 'constant': add a constant (no training: the round is the protocol's cost alone). */
  readonly trainer: 'tfjs' | 'constant';
}

export type PerClientNodeReport =
  | { readonly type: 'welcome'; readonly name: string; readonly trainRows: number }
  | { readonly type: 'problem'; readonly name: string; readonly detail: string }
  | { readonly type: 'exit'; readonly name: string; readonly reason: string; readonly wroteModel: boolean; readonly cpuSeconds: number; readonly phases: readonly RoundPhases[] };

/** The breast-cancer table: 569 rows, 30 features, stratified 80/20 split, z-scored with the training rows' statistics. */
export const BREAST_CANCER = fileURLToPath(new URL('../examples/breast-cancer/data/breast_cancer.csv', import.meta.url));

/** Every `clients`-th row from `index`: an IID share of the table. */
function shareOf(data: TabularData, index: number, clients: number): TabularData {
  const rows: number[] = [];
  for (let r = index; r < data.rows; r += clients) rows.push(r);
  return takeRows(data, rows);
}

const config = JSON.parse(process.argv[2] ?? 'null') as PerClientNodeConfig | null;
if (!config) throw new Error("usage: perClientClient.ts '<PerClientNodeConfig as JSON>' (forked by bench/perClient.ts)");
const { name } = config;
const report = (r: PerClientNodeReport) => process.send?.(r);
const data = loadCsvData({ path: BREAST_CANCER, label: 'target', testFraction: 0.2, seed: 7 });
const train = shareOf(data.train, config.index, config.clients);
const test = shareOf(data.test, config.index, config.clients);
async function makeTrainer(): Promise<Trainer> {
  if (config!.trainer === 'constant') return new ConstantStepTrainer(mlpSpec(config!.params), 0.25, train.rows);
  await selectBackend({ preference: 'wasm', env: {}, log: () => undefined });
  return new TfjsTrainer({ model: buildMlp(config!.params), train: tabularTensors(train, 1), test: tabularTensors(test, 1), loss: 'binaryCrossentropy', accuracy: true, seed: config!.index });
}
const trainer = new PhaseTimedTrainer(await makeTrainer());
/** CPU time from joining to the run's end: the rounds' work in this process (loading tfjs and the data excluded). */
let cpuAtWelcome: NodeJS.CpuUsage | undefined;
const handle = startClient({
  url: config.url,
  name,
  trainer,
  coordinatorKey: publicKeyFromBase64(config.coordinatorKey),
  onEvent: (event) => {
    if (event.type === 'welcome') {
      cpuAtWelcome ??= process.cpuUsage();
      report({ type: 'welcome', name, trainRows: train.rows });
    }
    if (event.type === 'task-failed' || event.type === 'refused' || (event.type === 'disconnected' && event.reason !== 'io client disconnect')) {
      report({ type: 'problem', name, detail: `${event.type}: ${event.reason}` });
    }
  },
});
const reason = await handle.done.catch((e: unknown) => `failed: ${(e as Error).message}`);
const cpu = process.cpuUsage(cpuAtWelcome);
const final = handle.globalWeights();
if (final) writeFlat(config.modelOut, final);
// Exit explicitly once the parent has the report: socket.io-client and pino may keep timers alive.
process.send?.({ type: 'exit', name, reason, wroteModel: final !== undefined, cpuSeconds: (cpu.user + cpu.system) / 1e6, phases: trainer.rounds } satisfies PerClientNodeReport, () => process.exit(0));

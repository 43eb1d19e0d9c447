import type { Logger } from 'pino';
import type { ClientSecurityPolicy } from '../../client/security/securityPolicy.js';
import type { Identity } from '../../crypto/identity.js';
import type { DataSchema } from '../../protocol/dataSchema.js';
import { ByzantineTrainer, type ByzantineAttack } from '../../client/byzantine/index.js';
import { dropoutSchedule, type DropoutScheduleOptions } from '../../client/dropouts/index.js';
import { startClient, type ClientEvent, type ClientHandle } from '../../client/clientNode.js';
import type { TrainTest } from '../../client/data/index.js';
import type { DpSgdOptions } from '../../client/dpSgd.js';
import type { ModelSpec } from '../../client/model/modelSpec.js';
import { createTabularTrainer } from '../../client/tabularTrainer.js';
import { TabularScaler } from '../../client/tabularScaler.js';
import { OnDemandTrainer } from '../../client/onDemandTrainer.js';
import { pacedClients } from './pacedJoins.js';
import { featureCount, standardizeTrainTest, type TabularData } from '../../client/data/index.js';
import { specOutputs } from '../../client/model/modelSpec.js';
import type { Weights } from '../../protocol/tensors.js';
import * as tf from '@tensorflow/tfjs';
import { buildModelAsync } from '../../client/model/buildModel.js';
import { checkModelPin, sha256Of } from '../../client/model/modelFile.js';
import type { TfjsOptimizerName } from '../../client/tfjsTrainer.js';

/**
 * One simulated hospital, as plain data: it crosses into a worker thread by structured clone, so it holds
 * typed arrays and numbers only, never tensors or functions.
 */
export interface VirtualClient {
  readonly name: string;
  /** Its Ed25519 identity (the key the coordinator's allowlist and the roster name). */
  readonly identity: Identity;
  /** Raw rows; the client scales them as the experiment's standardization says. */
  readonly data: TrainTest;
  readonly datasetFingerprint: string;
  /** Its columns, types and levels, announced at hello (see ClientOptions.dataSchema). */
  readonly dataSchema?: DataSchema;
  /** Example-level DP-SGD planned for this client's row count. */
  readonly dpSgd?: DpSgdOptions;
  /** Whether this client runs the experiment's Byzantine attack. */
  readonly byzantine: boolean;
}

/** What every virtual client of one simulation shares. */
export interface FederationSettings {
  readonly url: string;
  /** The coordinator's Ed25519 public key: simulated clients pin it, as production clients should. */
  readonly coordinatorKey: Uint8Array;
  readonly model: ModelSpec;
  readonly optimizer: TfjsOptimizerName;
  readonly seed: number;
  readonly localStandardization: boolean;
  readonly attack?: ByzantineAttack;
  /** What every client accepts (under CKKS: the mode and the roster). */
  readonly security?: ClientSecurityPolicy;
  /** Injected dropouts, drawn over every client of the federation (`names`), whichever thread hosts them. */
  readonly dropouts?: DropoutScheduleOptions & { readonly names: readonly string[] };
}

export interface RunningClients {
  /** In the order of the clients given. */
  readonly handles: readonly ClientHandle[];
  /** Stops every client node and frees its tensors. */
  stop(): Promise<void>;
}

/** Clients of one thread handshaking at once (pacedJoins.ts): enough to keep a coordinator busy, few enough for its deadline. */
const MAX_JOINING = 32;

/**
 * Connects each client to the coordinator with an on-demand trainer: a client holds its rows, and a tfjs model
 * only while it has a task, so memory follows the clients the coordinator samples, not the clients hosted.
 * Everything a build could refuse (features against the model, labels against its outputs) is checked here,
 * before any connection: a client that cannot train fails the start, naming it.
 */
export async function startVirtualClients(settings: FederationSettings, clients: readonly VirtualClient[], logger: Logger, onEvent?: (event: ClientEvent, client: string) => void): Promise<RunningClients> {
  const attack = settings.attack;
  const unarmed = clients.find((c) => c.byzantine && !attack);
  if (unarmed) throw new Error(`client ${unarmed.name} is Byzantine but the experiment names no attack`);
  const schedule = settings.dropouts ? dropoutSchedule(settings.dropouts.names, settings.dropouts) : undefined;
  if (clients.length === 0) return { handles: [], stop: async () => undefined };
  const shape = await modelShape(settings, clients[0]!);
  const trainers = clients.map((c) => {
    try {
      return onDemandTrainer(settings, c, shape);
    } catch (e) {
      throw new Error(`client ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  const starts = clients.map((c, i) => (joined: () => void) => {
    const honest = trainers[i]!;
    const trainer = c.byzantine && attack ? new ByzantineTrainer(honest, attack) : honest;
    return startClient({
      url: settings.url,
      name: c.name,
      identity: c.identity,
      trainer,
      scaler: new TabularScaler(c.data, (data) => honest.setData(data)),
      ...(c.dataSchema ? { dataSchema: c.dataSchema } : {}),
      logger,
      coordinatorKey: settings.coordinatorKey,
      // Virtual clients share this machine's cores (and often a worker thread each): no CKKS threads per client.
      ckksThreads: 0,
      ...(settings.security ? { security: settings.security } : {}),
      ...(schedule ? { simulation: { leaveAt: schedule.leaveAt(c.name) } } : {}),
      onEvent: (event) => {
        if (event.type === 'welcome' || event.type === 'refused') joined();
        onEvent?.(event, c.name);
      },
    });
  });
  const handles = pacedClients(starts, MAX_JOINING);
  return {
    handles,
    stop: async () => {
      await Promise.all(handles.map((h) => h.stop()));
      trainers.forEach((t) => t.dispose());
    },
  };
}

/** The model's weight names and shapes, from one build checked against the first client's data. */
async function modelShape(settings: FederationSettings, first: VirtualClient): Promise<Weights> {
  try {
    const trainer = await buildTrainer(settings, first, first.data, undefined);
    const shape = trainer.getWeights();
    trainer.dispose();
    return shape;
  } catch (e) {
    throw new Error(`client ${first.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function onDemandTrainer(settings: FederationSettings, c: VirtualClient, shape: Weights): OnDemandTrainer {
  const outputs = specOutputs(settings.model);
  checkRows(c.data.train, shape, outputs);
  checkRows(c.data.test, shape, outputs);
  return new OnDemandTrainer({
    data: settings.localStandardization ? standardizeTrainTest(c.data) : c.data,
    shape,
    description: { numTrainExamples: c.data.train.rows, numTestExamples: c.data.test.rows, backend: tf.getBackend(), datasetFingerprint: c.datasetFingerprint },
    build: (data, dpSgdState) => buildTrainer(settings, c, data, dpSgdState),
  });
}

async function buildTrainer(settings: FederationSettings, c: VirtualClient, data: TrainTest, dpSgdState: unknown) {
  const prebuilt = await modelFileFor(settings, c.data.train.featureNames.length);
  return createTabularTrainer({
    model: settings.model,
    data,
    optimizer: settings.optimizer,
    seed: settings.seed,
    datasetFingerprint: c.datasetFingerprint,
    ...(c.dpSgd ? { dpSgd: dpSgdState === undefined ? c.dpSgd : { ...c.dpSgd, accountantState: dpSgdState } } : {}),
    ...(prebuilt ? { prebuilt } : {}),
  });
}

/** What building this client's tensors would refuse, checked without building them. */
function checkRows(data: TabularData, shape: Weights, outputs: number): void {
  const inputs = shape[0]?.shape[0];
  const width = featureCount(data);
  if (data.x.length !== data.rows * width) throw new Error(`rows [${data.rows}, ${width}] should have ${data.rows * width} values but has ${data.x.length}`);
  if (data.y.length !== data.rows) throw new Error(`${data.rows} rows but ${data.y.length} labels`);
  if (inputs !== undefined && shape[0]!.shape.length === 2 && inputs !== width) throw new Error(`the model takes ${inputs} inputs but the data has ${width} features`);
  if (outputs === 1) return;
  for (const label of data.y) {
    if (!Number.isInteger(label) || label < 0 || label >= outputs) throw new Error(`label ${label} does not fit a model with ${outputs} classes (expected 0..${outputs - 1})`);
  }
}

/**
 * A model file's architecture, as the coordinator handed it over (the file's text): the client hashes the text it got
 * itself and refuses it if its policy pins another hash. Undefined for declarative specs, which build synchronously.
 */
async function modelFileFor(settings: FederationSettings, inputs: number) {
  if (settings.model.type !== 'file') return undefined;
  if (settings.model.json === undefined) throw new Error(`model file ${settings.model.path} was not read by the coordinator`);
  checkModelPin(sha256Of(settings.model.json), settings.security?.modelSha256, 'this client (security.modelSha256)');
  return buildModelAsync(settings.model, inputs, settings.seed);
}

/** Resolves once every client has seen the run end (or been refused), or after `graceMs`, whichever is first. */
export async function settleClients(handles: readonly ClientHandle[], graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
  await Promise.race([Promise.all(handles.map((h) => h.done.catch(() => undefined))), grace]);
  clearTimeout(timer);
}

/** Waits for every client to end, and says why each one refused for good was refused ("name: reason"). */
export async function refusals(handles: readonly ClientHandle[], clients: readonly { readonly name: string }[]): Promise<string[]> {
  const outcomes = await Promise.all(handles.map((h) => h.done.then(() => undefined, (e: unknown) => (e instanceof Error ? e.message : String(e)))));
  return outcomes.flatMap((reason, i) => (reason === undefined ? [] : [`${clients[i]!.name}: ${reason}`]));
}

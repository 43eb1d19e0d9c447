import type { Logger } from 'pino';
import type { ClientSecurityPolicy } from '../../client/security/securityPolicy.js';
import type { Identity } from '../../crypto/identity.js';
import type { DataSchema } from '../../protocol/dataSchema.js';
import { ByzantineTrainer, type ByzantineAttack } from '../../client/byzantine/index.js';
import { dropoutSchedule, type DropoutScheduleOptions } from '../../client/dropouts/index.js';
import { startClient, type ClientHandle } from '../../client/clientNode.js';
import type { TrainTest } from '../../client/data/index.js';
import type { DpSgdOptions } from '../../client/dpSgd.js';
import type { ModelSpec } from '../../client/model/modelSpec.js';
import { createTabularNode } from '../../client/tabularTrainer.js';
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

/**
 * Builds each client's tfjs trainer from its rows and connects it to the coordinator. If one cannot be
 * built, the ones already built are freed and the error names the client.
 */
export async function startVirtualClients(settings: FederationSettings, clients: readonly VirtualClient[], logger: Logger): Promise<RunningClients> {
  const attack = settings.attack;
  const unarmed = clients.find((c) => c.byzantine && !attack);
  if (unarmed) throw new Error(`client ${unarmed.name} is Byzantine but the experiment names no attack`);
  const schedule = settings.dropouts ? dropoutSchedule(settings.dropouts.names, settings.dropouts) : undefined;
  const nodes: ReturnType<typeof createTabularNode>[] = [];
  for (const c of clients) {
    try {
      const prebuilt = await modelFileFor(settings, c.data.train.featureNames.length);
      nodes.push(
        createTabularNode({
          model: settings.model,
          data: c.data,
          localStandardization: settings.localStandardization,
          optimizer: settings.optimizer,
          seed: settings.seed,
          datasetFingerprint: c.datasetFingerprint,
          ...(c.dpSgd ? { dpSgd: c.dpSgd } : {}),
          ...(prebuilt ? { prebuilt } : {}),
        }),
      );
    } catch (e) {
      nodes.forEach((n) => n.trainer.dispose());
      throw new Error(`client ${c.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const handles = clients.map((c, i) => {
    const honest = nodes[i]!.trainer;
    const trainer = c.byzantine && attack ? new ByzantineTrainer(honest, attack) : honest;
    return startClient({
      url: settings.url,
      name: c.name,
      identity: c.identity,
      trainer,
      scaler: nodes[i]!.scaler,
      ...(c.dataSchema ? { dataSchema: c.dataSchema } : {}),
      logger,
      coordinatorKey: settings.coordinatorKey,
      // Virtual clients share this machine's cores (and often a worker thread each): no CKKS threads per client.
      ckksThreads: 0,
      ...(settings.security ? { security: settings.security } : {}),
      ...(schedule ? { simulation: { leaveAt: schedule.leaveAt(c.name) } } : {}),
    });
  });
  return {
    handles,
    stop: async () => {
      await Promise.all(handles.map((h) => h.stop()));
      nodes.forEach((n) => n.trainer.dispose());
    },
  };
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

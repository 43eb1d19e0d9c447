import { pino } from 'pino';
import { selectBackend } from '../../client/backend/index.js';
import { byzantineClients } from '../../client/byzantine/index.js';
import { planDpSgd } from '../../client/dpSgdPlan.js';
import { readModelFile } from '../../client/model/modelFile.js';
import { publicKeyFromBase64 } from '../../crypto/identity.js';
import type { ExperimentConfig } from '../config/experimentConfig.js';
import type { ClientHost } from '../simulation/clientHost.js';
import { hostInWorkers } from '../simulation/clientPool.js';
import { describeWaiting, ProgressCounter, ProgressTotals } from '../simulation/clientProgress.js';
import { checkOpenFiles } from '../simulation/openFiles.js';
import { loadClients } from '../simulation/federationData.js';
import { hostInProcess } from '../simulation/inProcessHost.js';
import type { FederationSettings, VirtualClient } from '../simulation/virtualClients.js';
import { loadVirtualFederation } from '../simulation/virtualFederation.js';
import { resolveWorkerCount, type WorkerSetting } from '../simulation/workerCount.js';
import { hostRange, type HostPart } from './hostPart.js';

export interface HostOptions {
  readonly part: HostPart;
  /** The coordinator, as the hosts reach it (http://coordinator:8080). */
  readonly url: string;
  /** The coordinator's public key (base64), pinned by every virtual client as hospitals pin it. */
  readonly coordinatorKey: string;
  readonly workers: WorkerSetting;
  /** The key file, if not at the experiment's access.key (relative to the config). */
  readonly keyPath?: string;
  /** Seconds between progress lines (0: none). */
  readonly progressSeconds: number;
}

export interface HostResult {
  /** Virtual clients this host ran. */
  readonly clients: number;
  /** "name: reason" for each client the coordinator refused for good. */
  readonly refused: readonly string[];
}

/** The longest a timer may wait (2^31 - 1 ms, about 24.8 days): a host waits for the run, however long it is. */
const UNTIL_THE_RUN_ENDS_MS = 2_147_483_647;

/**
 * `cohort host`: runs part K of N of an experiment's virtual clients against a remote coordinator, over the
 * protocol hospitals use (each client proves its own derived key and pins the coordinator's). The process
 * reads the whole dataset, partitions it as `cohort simulate` does, and keeps only its part's rows, so client
 * i trains on the same rows, with the same seeds, whichever host runs it.
 */
export async function runHost(config: ExperimentConfig, baseDir: string, options: HostOptions, print: (line: string) => void): Promise<HostResult> {
  const federation = loadVirtualFederation(config, baseDir, options.keyPath);
  const coordinatorKey = publicKeyFromBase64(options.coordinatorKey, '--coordinator-key');
  const { start, end } = hostRange(options.part, federation.count);
  const label = `host ${options.part.number}/${options.part.count}`;
  print(`${label}: virtual clients ${federation.name(start)} .. ${federation.name(end - 1)} (${end - start} of ${federation.count}), experiment fingerprint ${federation.fingerprint.slice(0, 16)}`);
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const { backend } = await selectBackend({ preference: config.backend, log: print });
  checkOpenFiles(`${label}'s ${end - start} virtual clients`, end - start, 'split the clients over more hosts (--part k/n with a larger n)');
  const clients = await loadClients(config, baseDir, () => undefined, { start, end });
  const rows = clients.reduce((sum, c) => sum + c.data.meta.trainRows, 0);
  print(`${label}: ${rows} training rows across its ${clients.length} clients (the whole dataset read and partitioned, this part kept); RSS ${megabytes(process.memoryUsage.rss())}`);
  const modelFile = config.model.type === 'file' ? await readModelFile(config.model, baseDir) : undefined;
  const model = modelFile ? modelFile.spec : config.model;

  const names = Array.from({ length: federation.count }, (_, i) => federation.name(i));
  const attackers = new Set(config.byzantine ? byzantineClients(config.byzantine, names, config.seed) : []);
  const t = config.training;
  const virtualClients: VirtualClient[] = clients.map((c, k) => {
    const trainRows = c.data.meta.trainRows;
    const dpSgd = config.dpSgd
      ? planDpSgd(config.dpSgd, { trainRows, batchSize: t.batchSize, rounds: config.rounds, stepsPerRound: t.maxSteps ?? t.epochs * Math.ceil(trainRows / Math.min(t.batchSize, trainRows)) }).options
      : undefined;
    return {
      name: c.name,
      identity: federation.identity(start + k),
      data: { train: c.data.train, test: c.data.test },
      datasetFingerprint: c.data.meta.schemaFingerprint,
      ...(c.data.meta.schema ? { dataSchema: c.data.meta.schema } : {}),
      byzantine: attackers.has(c.name),
      ...(dpSgd ? { dpSgd } : {}),
    };
  });
  const roster = config.secureAggregation === 'plain' ? undefined : federation.allowlist().map((p) => ({ name: p.name, identityKey: p.publicKey }));
  const settings: FederationSettings = {
    url: options.url,
    coordinatorKey,
    model,
    optimizer: t.optimizer,
    seed: config.seed,
    localStandardization: config.standardization === 'local',
    ...(config.byzantine ? { attack: config.byzantine.attack } : {}),
    ...(roster ? { security: { mode: config.secureAggregation, roster, featureStatistics: config.standardization === 'federated' } } : {}),
  };

  const workers = resolveWorkerCount(options.workers, virtualClients.length);
  const progress = new ProgressTotals();
  const local = new ProgressCounter();
  let host: ClientHost | undefined;
  const timer = options.progressSeconds > 0 ? setInterval(() => print(progressLine(label, progress, local, virtualClients.length)), options.progressSeconds * 1000) : undefined;
  timer?.unref();
  try {
    host = workers > 0 ? hostInWorkers({ settings, clients: virtualClients, workers, backend, logLevel: config.logLevel, reportProgress: true }) : await hostInProcess(settings, virtualClients, logger, local.onEvent, "this host's main thread");
    print(`${label}: ${host.description}; connecting to ${options.url}`);
    const ended = host.finish(UNTIL_THE_RUN_ENDS_MS);
    await Promise.race([ended, host.failure]);
    const refused = host.refused();
    print(progressLine(label, progress, local, virtualClients.length));
    if (refused.length > 0) throw new Error(describeRefusals(refused, virtualClients.length, federation.fingerprint));
    print(`${label}: done, the coordinator ended the run`);
    return { clients: virtualClients.length, refused };
  } finally {
    if (timer) clearInterval(timer);
    progress.close();
    await host?.close();
  }
}

const megabytes = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

function progressLine(label: string, totals: ProgressTotals, local: ProgressCounter, clients: number): string {
  totals.add(local.take());
  const t = totals.totals;
  return `${label}: ${t.joined} joins of ${clients} clients, RSS ${megabytes(process.memoryUsage.rss())}, round ${t.round}, ${t.trained} trained, ${t.evaluated} evaluated${t.failed ? `, ${t.failed} tasks failed` : ''}${t.refused ? `, ${t.refused} refused` : ''}${t.retries ? `, ${t.retries} connection retries (last: ${t.lastRetry})` : ''}${t.waiting.count ? `, ${describeWaiting(t.waiting)}` : ''}`;
}

/** Why a host's clients were refused, and what to check: the usual cause is a host set up unlike the coordinator. */
export function describeRefusals(refused: readonly string[], clients: number, fingerprint: string): string {
  const keyProblem = refused.some((r) => /access list|not the key/.test(r));
  return (
    `the coordinator refused ${refused.length} of this host's ${clients} virtual clients (first: ${refused[0]})` +
    (keyProblem
      ? `: their keys are derived from access.key and the experiment's fingerprint (${fingerprint.slice(0, 16)} here); the coordinator prints its own at start: give every host the coordinator's experiment file and key file`
      : '')
  );
}

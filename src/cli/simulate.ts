import { dirname, resolve } from 'node:path';
import { pino } from 'pino';
import { selectBackend, type BackendName } from '../client/backend/index.js';
import { type LoadedCsvData } from '../client/data/index.js';
import { dataSummary } from '../client/data/dataSummary.js';
import { createTabularNode } from '../client/tabularTrainer.js';
import { specOutputs } from '../client/model/modelSpec.js';
import { readModelFile } from '../client/model/modelFile.js';
import { planDpSgd } from '../client/dpSgdPlan.js';
import { applyPublicScaling, describeClipped, standardizeTrainTest } from '../client/data/index.js';
import type { Weights } from '../protocol/tensors.js';
import { AccessList } from '../coordinator/accessList.js';
import { generateIdentity } from '../crypto/identity.js';
import { Coordinator, type RunResult } from '../coordinator/coordinator.js';
import { concatTables, trainCentralBaseline, poolData } from './centralBaseline.js';
import { type ExperimentConfig } from './config/experimentConfig.js';
import { parseConfig } from './config/loadConfig.js';
import { loadSiteData, siteDataConfigSchema } from '../client/data/siteData.js';
import { createStrategy } from './createStrategy.js';
import { formatRound } from './formatRound.js';
import { privacyOptions } from './privacyOptions.js';
import { formatTraffic } from './formatTraffic.js';
import { startObservability } from './observabilitySetup.js';
import { planStoredRun } from './openStore.js';
import { takeRows, trainTestSplit } from '../client/data/index.js';
import { describeLabelCounts, labelHistogram, partitionRows } from '../client/partition/index.js';
import { mixSeed } from '../protocol/seededRng.js';
import { schemaMismatch } from '../protocol/dataSchema.js';
import { byzantineClients } from '../client/byzantine/index.js';
import type { ClientHost } from './simulation/clientHost.js';
import { hostInWorkers } from './simulation/clientPool.js';
import { hostInProcess } from './simulation/inProcessHost.js';
import type { FederationSettings, VirtualClient } from './simulation/virtualClients.js';
import { resolveWorkerCount } from './simulation/workerCount.js';
import { checkOpenFiles } from './simulation/openFiles.js';
import { stagingDirReport, uploadParameters } from './stagingDir.js';
import { ProgressCounter, ProgressTotals } from './simulation/clientProgress.js';
import { reportJoins } from './simulation/joinProgress.js';
import { partitionClientCount } from '../client/partition/index.js';
import { loadClients } from './simulation/federationData.js';
import { storeFlag } from './storeFlag.js';

/** Where a simulation reads its data from and where it prints. */
export interface SimulationOptions {
  /** Relative data paths resolve against this folder (the config file's). Default: the working directory. */
  readonly baseDir?: string;
  /** Receives every progress line. Default: console.log. */
  readonly print?: (line: string) => void;
}

/** What a simulation ends with: the run and its accuracies, federated and central. */
export interface SimulationResult {
  /** The coordinator's result: final model, round history. */
  readonly run: RunResult;
  /** The tfjs backend the clients trained on. */
  readonly backend: BackendName;
  /** The final global model on the pooled test rows of every client. */
  readonly pooledAccuracy: number | undefined;
  /** Unweighted mean of the clients' own test accuracies in the last round (FLamby's "per-client" figure). */
  readonly meanClientAccuracy: number | undefined;
  /** Each client's accuracy on its own test split in the last round. */
  readonly perClientAccuracy: Readonly<Record<string, number>>;
  /** The same model trained centrally on the pooled training rows, tested on the pooled test rows. */
  readonly centralAccuracy: number | undefined;
  /** Payload bytes streamed both ways (weights, updates, ciphertexts), over the whole run. */
  readonly bytesOnWire: number;
}

/** How long clients get to see the run end before they are stopped; worker threads also report back. */
const IN_PROCESS_GRACE_MS = 2_000;
const POOL_GRACE_MS = 10_000;

const pct = (v: number | undefined) => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);

/**
 * A whole federation on one machine: one coordinator and one client node per configured hospital, talking
 * over real socket.io connections on loopback, exactly as separate processes would.
 */
export async function simulate(config: ExperimentConfig, options: SimulationOptions = {}): Promise<SimulationResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  // Before anything is read: coordinator and clients share this process, two sockets per client (its end and the coordinator's).
  const clientCount = config.partition ? partitionClientCount(config.partition) : (config.clients?.length ?? 0);
  checkOpenFiles(`${clientCount} virtual clients beside the coordinator in one process`, 2 * clientCount, 'run the clients in `cohort host` processes (cohort coordinator, then cohort host --part k/n), each holding one socket per client');
  const { backend } = await selectBackend({ preference: config.backend, log: print });

  const clients = await loadClients(config, baseDir, print);
  // A model file is read here, by the coordinator, and handed to every client (its text, which each client hashes).
  const modelFile = config.model.type === 'file' ? await readModelFile(config.model, baseDir) : undefined;
  if (modelFile) {
    config = { ...config, model: modelFile.spec };
    print(`model: ${modelFile.spec.path}, sha256 ${modelFile.spec.sha256}, ${modelFile.model.countParams()} parameters (initial weights from its weight files)`);
  }
  for (const c of config.partition ? [] : clients) {
    const m = c.data.meta;
    print(`client ${dataSummary(c.name, m)}`);
  }
  const mode = config.standardization;
  if (config.dpSgd && mode === 'local') {
    // Accepted (FLamby's DP example does it), but the record-level guarantee does not cover the scaling.
    print("standardization: local fits each client's mean and std on its own rows, outside DP-SGD's accounting (one record moves every scaled row); standardization: public or none keeps the whole pipeline under the guarantee");
  }
  const optimizer = config.training.optimizer;
  const features = clients[0]!.data.meta.featureCount;
  // The pooled test rows, scaled as the clients scale theirs, score the global model after every round.
  const pooledRaw = poolData(clients.map((c) => c.data));
  const evaluatorNode = createTabularNode({
    model: config.model,
    data: mode === 'local' ? poolData(clients.map((c) => standardizeTrainTest(c.data))) : pooledRaw,
    localStandardization: false,
    optimizer,
    seed: config.seed,
    ...(modelFile ? { prebuilt: modelFile.model } : {}),
  });
  const evaluator = evaluatorNode.trainer;
  // The manifest records the model as it ran, with the input width the data gave it.
  const resolved: ExperimentConfig = { ...config, model: { ...config.model, inputs: features } };
  const stored = config.store ? planStoredRun(resolve(baseDir, config.store.path), resolved, false) : undefined;
  if (stored) print(stored.resume ? `resuming run ${stored.resume.id} after round ${stored.resume.lastRound}` : `store: ${stored.store.path}`);
  const dp = privacyOptions(config);
  const strategy = createStrategy(
    config,
    async (_round, weights) => {
      evaluator.setWeights(weights);
      return evaluator.evaluate({ round: 0, batchSize: 1024 });
    },
    baseDir,
  );
  const initialWeights = evaluator.getWeights();
  const staging = stagingDirReport(config.coordinator.stagingDir && resolve(baseDir, config.coordinator.stagingDir), uploadParameters(config, initialWeights));
  if (staging) print(staging);

  // Each virtual hospital has its own identity; the coordinator admits exactly those (an allowlist), and under
  // CKKS every client pins the same roster and refuses tasks outside the mode, as production nodes should.
  const identities = new Map(clients.map((c) => [c.name, generateIdentity()]));
  const roster = clients.map((c) => ({ name: c.name, identityKey: identities.get(c.name)!.publicKey }));
  const coordinator = await Coordinator.start({
    strategy,
    access: AccessList.of(roster.map((r) => ({ name: r.name, publicKey: r.identityKey, role: 'client' as const }))),
    initialWeights,
    // A copy of the evaluator's model (readModelWeights), made for the run: the rounds may overwrite it.
    adoptInitialWeights: true,
    rounds: config.rounds,
    host: '127.0.0.1',
    port: 0,
    roundTimeoutMs: config.coordinator.roundTimeoutSeconds * 1000,
    waitForClientsMs: config.coordinator.waitForClientsSeconds * 1000,
    maxRoundRetries: config.coordinator.maxRoundRetries,
    acceptRisks: config.coordinator.acceptRisks,
    seed: config.seed,
    logger,
    // Every simulated client connects from loopback at once: the per-address limits must admit them all.
    maxConnectionsPerMinute: Math.max(120, clients.length * 3),
    maxPendingHandshakes: Math.max(64, clients.length),
    maxConnectionsPerAddress: Math.max(128, clients.length * 2),
    transfer: { streamIdleTimeoutMs: config.coordinator.streamIdleTimeoutSeconds * 1000, minStreamBytesPerSecond: config.coordinator.minStreamBytesPerSecond },
    ...(config.coordinator.maxExamplesPerClient !== undefined ? { maxExamplesPerClient: config.coordinator.maxExamplesPerClient } : {}),
    ...(stored
      ? {
          store: stored.store,
          resume: stored.resume !== undefined,
          ...(stored.resume ? { runId: stored.resume.id } : {}),
          manifest: stored.manifest,
          experimentName: config.name,
          configHash: stored.manifest.configHash,
        }
      : {}),
    ...(config.dataSchema ? { dataSchema: config.dataSchema } : {}),
    ...(mode === 'federated'
      ? {
          standardizeFeatures: features,
          onStandardization: (w: Weights) => {
            evaluatorNode.scaler.standardize(w[0]!.data, w[1]!.data);
            print(`federated standardization: mean and std of ${features} features from ${pooledRaw.train.rows} training rows across ${clients.length} clients`);
          },
        }
      : {}),
    ...dp.coordinator,
    secureAggregation: config.secureAggregation,
    ...(config.secaggplus ? { secaggplus: config.secaggplus } : {}),
    ...(config.compression ? { compression: config.compression } : {}),
    onRound: (record) => {
      dp.observe(record);
      print(formatRound(record, config.rounds));
    },
  });
  print(`coordinator listening on ${coordinator.url}; ${clients.length} clients, ${config.rounds} rounds, ${strategy.name}, ${mode} standardization, ${config.secureAggregation} aggregation${config.compression ? `, ${config.compression.method} compression` : ''}`);
  let bytesOnWire = 0;
  coordinator.on('traffic', ({ bytes }) => void (bytesOnWire += bytes));
  const observability = await startObservability(coordinator, config.observability, baseDir, { title: config.name, rounds: config.rounds, privacy: dp.budget }, print);
  const t = config.training;
  // Example-level DP-SGD: each client's noise for its own q = batch / n and the run's planned steps.
  const dpSgdFor = (trainRows: number) =>
    config.dpSgd
      ? planDpSgd(config.dpSgd, { trainRows, batchSize: t.batchSize, rounds: config.rounds, stepsPerRound: t.maxSteps ?? t.epochs * Math.ceil(trainRows / Math.min(t.batchSize, trainRows)) }).options
      : undefined;
  const attackers = new Set(config.byzantine ? byzantineClients(config.byzantine, clients.map((c) => c.name), config.seed) : []);
  if (attackers.size > 0) print(`byzantine clients: ${[...attackers].join(', ')} (${config.byzantine!.attack.kind})`);
  const virtualClients: VirtualClient[] = clients.map((c) => {
    const dpSgd = dpSgdFor(c.data.meta.trainRows);
    return {
      name: c.name,
      identity: identities.get(c.name)!,
      data: { train: c.data.train, test: c.data.test },
      datasetFingerprint: c.data.meta.schemaFingerprint,
      ...(c.data.meta.schema ? { dataSchema: c.data.meta.schema } : {}),
      byzantine: attackers.has(c.name),
      ...(dpSgd ? { dpSgd } : {}),
    };
  });
  if (config.dropouts) {
    const { beforeUpload, afterUpload, rounds } = config.dropouts;
    print(`dropouts: ${Math.round(clients.length * beforeUpload)} clients leave before uploading and ${Math.round(clients.length * afterUpload)} just after, a fresh draw ${rounds ? `in rounds ${rounds.join(', ')}` : 'every round'} (seed ${config.seed})`);
  }
  const settings: FederationSettings = {
    url: coordinator.url,
    coordinatorKey: coordinator.identity.publicKey,
    model: config.model,
    optimizer,
    seed: config.seed,
    localStandardization: mode === 'local',
    ...(config.byzantine ? { attack: config.byzantine.attack } : {}),
    ...(config.dropouts ? { dropouts: { ...config.dropouts, seed: config.seed, names: clients.map((c) => c.name) } } : {}),
    ...(config.secureAggregation !== 'plain' ? { security: { mode: config.secureAggregation, roster, featureStatistics: mode === 'federated' } } : {}),
  };
  const workers = resolveWorkerCount(config.simulation.workers, clients.length);
  let host: ClientHost | undefined;
  let run: RunResult;
  let firstClientModel: Weights | undefined;
  const progress = new ProgressTotals();
  const local = new ProgressCounter();
  let stopJoinReports: (() => void) | undefined;
  try {
    host = workers > 0 ? hostInWorkers({ settings, clients: virtualClients, workers, backend, logLevel: config.logLevel, reportProgress: true }) : await hostInProcess(settings, virtualClients, logger, local.onEvent);
    print(host.description);
    stopJoinReports = reportJoins({ connected: () => coordinator.clients.length, clients: virtualClients.length, totals: progress, local, print });
    const running = coordinator.run();
    running.catch(() => undefined); // if hosting fails first, the coordinator's own error is moot
    run = await Promise.race([running, host.failure]);
    firstClientModel = await host.finish(workers > 0 ? POOL_GRACE_MS : IN_PROCESS_GRACE_MS);
  } finally {
    stopJoinReports?.();
    progress.close();
    await host?.close();
    await observability.close();
    await coordinator.close();
    stored?.store.close();
  }

  const last = run.history[run.history.length - 1];
  const perClientAccuracy: Record<string, number> = {};
  // In name order: outcomes arrive in whatever order the clients answered.
  const outcomes = [...(last?.evaluate?.outcomes ?? [])].sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
  for (const o of outcomes) if (o.metrics?.accuracy !== undefined) perClientAccuracy[o.client] = o.metrics.accuracy;
  const accs = Object.values(perClientAccuracy);
  const meanClientAccuracy = accs.length > 0 ? accs.reduce((s, a) => s + a, 0) / accs.length : undefined;
  // Under CKKS only the clients hold the model: take the one they decrypted.
  const finalWeights = run.encryptedModel ? firstClientModel : run.weights;
  if (!finalWeights) throw new Error('no client holds the final model');
  evaluator.setWeights(finalWeights);
  const pooledAccuracy = (await evaluator.evaluate({ round: 0, batchSize: 1024 })).metrics.accuracy;
  if (run.stoppedEarly) print(run.stoppedEarly);
  print(formatTraffic(coordinator.socketBytes, bytesOnWire, run.history.length));
  if (stored) print(`this run's rounds are in the store: \`npx cohort show ${run.runId.slice(0, 8)}${storeFlag(stored.store.path)}\`, its dashboard: \`npx cohort dashboard ${run.runId.slice(0, 8)}${storeFlag(stored.store.path)}\``);
  evaluator.dispose();

  let centralAccuracy: number | undefined;
  if (config.centralBaseline !== false) {
    const epochs = typeof config.centralBaseline === 'object' ? config.centralBaseline.epochs : config.rounds * config.training.epochs;
    // Pooled training, as FLamby's pooled baseline: one z-score fitted on all training rows together (public
    // scaling: the same public scale the clients used).
    const pooled = mode === 'none' || mode === 'public' ? pooledRaw : standardizeTrainTest(pooledRaw);
    const central = await trainCentralBaseline({ model: config.model, pooled, optimizer, seed: config.seed, epochs, batchSize: config.training.batchSize, learningRate: config.training.learningRate });
    centralAccuracy = central.metrics.accuracy;
    print(`central baseline: ${epochs} epochs on the pooled ${pooled.train.rows} training rows`);
  }

  print('');
  print(`federated model, pooled test set (${pooledRaw.test.rows} rows): accuracy ${pct(pooledAccuracy)}`);
  print(`federated model, mean per-client test accuracy:  ${pct(meanClientAccuracy)}  (${Object.entries(perClientAccuracy).map(([k, v]) => `${k} ${pct(v)}`).join(', ')})`);
  if (centralAccuracy !== undefined && pooledAccuracy !== undefined) {
    const gap = 100 * (pooledAccuracy - centralAccuracy);
    print(`central baseline, same split:                    accuracy ${pct(centralAccuracy)}  (federated - central: ${gap >= 0 ? '+' : ''}${gap.toFixed(2)} points)`);
  }
  return { run, backend, pooledAccuracy, meanClientAccuracy, perClientAccuracy, centralAccuracy, bytesOnWire };
}

/** The folder a config file's relative paths are read from. */
export function configBaseDir(configPath: string): string {
  return dirname(resolve(configPath));
}

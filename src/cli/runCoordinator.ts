import { resolve } from 'node:path';
import { pino } from 'pino';
import { buildModel } from '../client/model/buildModel.js';
import { quietCpuBanner } from '../client/backend/quietCpuBanner.js';
import { specInputs } from '../client/model/modelSpec.js';
import { readModelFile } from '../client/model/modelFile.js';
import { MODEL_JSON_PATH, serveModelJson } from './modelDistribution.js';
import { readModelWeights } from '../client/model/modelWeights.js';
import { Coordinator, type RunResult } from '../coordinator/coordinator.js';
import { experimentConfigSchema, type ExperimentConfig } from './config/experimentConfig.js';
import { ConfigError, loadConfig } from './config/loadConfig.js';
import { createStrategy } from './createStrategy.js';
import { dataSchemaYaml } from './config/dataSchemaConfig.js';
import { formatRound } from './formatRound.js';
import { privacyOptions } from './privacyOptions.js';
import { formatTraffic } from './formatTraffic.js';
import { startObservability } from './observabilitySetup.js';
import { planStoredRun } from './openStore.js';
import { exitWhenFlushed } from './exitWhenFlushed.js';
import { AccessList } from '../coordinator/accessList.js';
import { checkOpenFiles } from './simulation/openFiles.js';
import { stagingDirReport, uploadParameters } from './stagingDir.js';
import { loadVirtualFederation, virtualClientLimits } from './simulation/virtualFederation.js';
import { accessFromConfig, allowedPeers, loadIdentity, openAuditTrail, readPem } from './nodeSecurity.js';
import { storeFlag } from './storeFlag.js';

/** The connection limits the experiment sets (unset ones keep their defaults). */
function definedLimits(c: ExperimentConfig['coordinator']) {
  return {
    ...(c.maxConnectionsPerMinute !== undefined ? { maxConnectionsPerMinute: c.maxConnectionsPerMinute } : {}),
    ...(c.maxConnectionsPerAddress !== undefined ? { maxConnectionsPerAddress: c.maxConnectionsPerAddress } : {}),
    ...(c.maxPendingHandshakes !== undefined ? { maxPendingHandshakes: c.maxPendingHandshakes } : {}),
  };
}

/**
 * `cohort coordinator`: serves one experiment to remote clients until its rounds are done. SIGHUP reloads
 * the access list from the config file (peers no longer listed are cut off at once).
 */
export async function runCoordinator(config: ExperimentConfig, print: (line: string) => void, configPath?: string, options: { newRun?: boolean } = {}): Promise<RunResult> {
  const baseDirOfConfig = configPath ? resolve(configPath, '..') : process.cwd();
  // A model file gives the initial weights too (its weight files), and its text is served to the clients.
  // Before the first tensor (a model file's weights are tensors too).
  quietCpuBanner();
  const modelFile = config.model.type === 'file' ? await readModelFile(config.model, baseDirOfConfig) : undefined;
  const inputs = modelFile?.spec.inputs ?? specInputs(config.model);
  if (inputs === undefined) {
    throw new ConfigError('model.inputs is required for `cohort coordinator` (the number of input features): the coordinator never sees the data it would infer it from');
  }
  if (!config.access) {
    throw new ConfigError('access is required for `cohort coordinator`: list the allowed clients (access.peers: [{ name, publicKey, role }]) or accept anyone explicitly (access: { mode: open })');
  }
  const baseDir = configPath ? resolve(configPath, '..') : process.cwd();
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const { identity, persistent } = loadIdentity(config.identity, baseDir, print);
  const federation = config.access.mode === 'virtual-clients' ? loadVirtualFederation(config, baseDir) : undefined;
  const access = federation ? AccessList.of(federation.allowlist()) : accessFromConfig(config.access);
  if (federation) print(`access: ${federation.count} virtual clients, keys derived from ${config.access.mode === 'virtual-clients' ? config.access.key : ''} (experiment fingerprint ${federation.fingerprint.slice(0, 16)}): start \`cohort host\` processes with this experiment file`);
  // One socket per client the run waits for: past the open-file limit, the last ones could never connect.
  const expected = federation?.count ?? access.peers.filter((p) => p.role === 'client').length;
  checkOpenFiles(`the ${expected} clients this coordinator admits`, expected, 'run the coordinator where the limit is higher');
  const limits = { ...(federation ? virtualClientLimits(federation.count) : {}), ...definedLimits(config.coordinator) };
  if (access.mode === 'open') print('access: open: any client that proves a key may join (list access.peers to restrict it)');
  const auditPath = config.audit?.log ?? (persistent ? `${config.name}.audit.jsonl` : undefined);
  if (config.audit?.failClosed && !auditPath) throw new ConfigError('audit.failClosed needs an audit log: set audit.log (or identity.key, which defaults it to <name>.audit.jsonl)');
  // Fail-closed: the first entry that cannot be written halts the run (the coordinator exists by then: entries come from it).
  let halt: ((reason: string) => void) | undefined;
  const onAuditFailure = config.audit?.failClosed ? (e: Error) => halt?.(`the audit log cannot be written (audit.failClosed): ${e.message}`) : undefined;
  const audit = auditPath ? openAuditTrail(resolve(baseDir, auditPath), identity, logger, onAuditFailure) : undefined;
  if (audit) print(`audit log: ${audit.path}${config.audit?.failClosed ? ' (fail-closed: the coordinator stops if an entry cannot be written)' : ''}`);
  if (modelFile) print(`model: ${modelFile.spec.path}, sha256 ${modelFile.spec.sha256} (clients download it from ${MODEL_JSON_PATH})`);
  const model = modelFile?.model ?? buildModel(config.model, inputs, config.seed);
  const initialWeights = readModelWeights(model);
  model.dispose();
  const dp = privacyOptions(config);
  const strategy = createStrategy(config, undefined, baseDir);
  const staging = stagingDirReport(config.coordinator.stagingDir && resolve(baseDir, config.coordinator.stagingDir), uploadParameters(config, initialWeights));
  if (staging) print(staging);
  const storePath = config.store ? resolve(baseDir, config.store.path) : resolve('cohort.db');
  const { store, resume, manifest } = planStoredRun(storePath, config, options.newRun ?? false);
  print(resume ? `resuming run ${resume.id} after round ${resume.lastRound} of ${resume.roundsPlanned} (store ${storePath})` : `store: ${storePath}`);
  const tls = config.tls
    ? { cert: readPem(baseDir, config.tls.cert)!, key: readPem(baseDir, config.tls.key)!, ...(config.tls.ca ? { ca: readPem(baseDir, config.tls.ca)! } : {}), requestClientCert: config.tls.requestClientCert }
    : undefined;
  const coordinator = await Coordinator.start({
    strategy,
    initialWeights,
    // Made here for the run alone (copies of the tfjs model's values): the rounds may overwrite them.
    adoptInitialWeights: true,
    rounds: config.rounds,
    host: config.coordinator.host,
    port: config.coordinator.port,
    roundTimeoutMs: config.coordinator.roundTimeoutSeconds * 1000,
    transfer: { streamIdleTimeoutMs: config.coordinator.streamIdleTimeoutSeconds * 1000, minStreamBytesPerSecond: config.coordinator.minStreamBytesPerSecond },
    ...(config.coordinator.maxExamplesPerClient !== undefined ? { maxExamplesPerClient: config.coordinator.maxExamplesPerClient } : {}),
    waitForClientsMs: config.coordinator.waitForClientsSeconds * 1000,
    maxRoundRetries: config.coordinator.maxRoundRetries,
    seed: config.seed,
    logger,
    identity,
    ...limits,
    access,
    store,
    resume: resume !== undefined,
    ...(resume ? { runId: resume.id } : {}),
    manifest,
    experimentName: config.name,
    configHash: manifest.configHash,
    ...(audit ? { audit } : {}),
    ...(tls ? { tls } : {}),
    ...(config.standardization === 'federated' ? { standardizeFeatures: inputs } : {}),
    ...(config.dataSchema ? { dataSchema: config.dataSchema } : {}),
    ...dp.coordinator,
    secureAggregation: config.secureAggregation,
    ...(config.secaggplus ? { secaggplus: config.secaggplus } : {}),
    ...(config.compression ? { compression: config.compression } : {}),
    acceptRisks: config.coordinator.acceptRisks,
    onRound: (record) => {
      dp.observe(record);
      print(formatRound(record, config.rounds));
    },
  });
  coordinator.on('schema-refused', ({ reason }) => print(`refused: ${reason}`));
  coordinator.on('tls-mistake', ({ problem }) => print(`TLS: ${problem}`));
  coordinator.on('schema-adopted', ({ client, schema }) =>
    print(`the study's data schema is ${client}'s (the first site to join; ${schema.features.length} columns, label ${schema.label.name}): pin it in the experiment to check every site against it:\n${dataSchemaYaml(schema)}`),
  );
  if (config.dataSchema) print(`data schema pinned: ${config.dataSchema.features.length} columns, label ${config.dataSchema.label.name}; sites with other columns are refused`);
  let haltedFor: string | undefined;
  halt = (reason) => {
    if (haltedFor !== undefined) return;
    haltedFor = reason;
    print(`error: ${reason}; stopping`);
    coordinator.halt(reason);
  };
  if (modelFile) serveModelJson(coordinator, modelFile.spec.json);
  print(`coordinator for "${config.name}" listening on ${coordinator.url}; waiting for ${strategy.minAvailableClients} clients (run ${coordinator.runId})`);
  const observability = await startObservability(coordinator, config.observability, baseDir, { title: config.name, rounds: config.rounds, privacy: dp.budget }, print);
  const reload = () => {
    if (!configPath) return;
    try {
      const next = loadConfig(configPath, experimentConfigSchema);
      if (next.access?.mode !== 'allowlist') throw new ConfigError('a reload can change access.peers, not switch the access mode');
      const cut = coordinator.setAccess(allowedPeers(next.access.peers));
      print(`access list reloaded: ${next.access.peers.length} peers${cut.length ? `; revoked ${cut.join(', ')}` : ''}`);
    } catch (e) {
      print(`access list not reloaded: ${(e as Error).message}`);
    }
  };
  const stop = () => {
    void observability.close();
    void coordinator.close().then(() => exitWhenFlushed(130));
  };
  process.on('SIGHUP', reload);
  process.once('SIGINT', stop);
  let payloadBytes = 0;
  coordinator.on('traffic', ({ bytes }) => void (payloadBytes += bytes));
  let rounds = 0;
  try {
    const result = await coordinator.run();
    const id = coordinator.runId.slice(0, 8);
    const flag = storeFlag(storePath);
    print(`run ${coordinator.runId} ended: the dashboard at ${coordinator.url}/ closes with this coordinator; its rounds stay in the store (\`cohort show ${id}${flag}\`)`);
    print(`to see this run's dashboard again: npx cohort dashboard ${id}${flag}`);
    rounds = result.history.length;
    return result;
  } finally {
    print(formatTraffic(coordinator.socketBytes, payloadBytes, rounds));
    process.off('SIGHUP', reload);
    process.off('SIGINT', stop);
    await observability.close();
    await coordinator.close();
    audit?.close();
    store.close();
  }
}

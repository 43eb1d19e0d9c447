import { pino } from 'pino';
import { buildModel } from '../client/model/buildModel.js';
import { readModelWeights } from '../client/model/modelWeights.js';
import { Coordinator, type RunResult } from '../coordinator/coordinator.js';
import { ConfigError } from './config/loadConfig.js';
import type { ExperimentConfig } from './config/experimentConfig.js';
import { createStrategy } from './createStrategy.js';
import { formatRound } from './formatRound.js';

/** `cohort coordinator`: serves one experiment to remote clients until its rounds are done. */
export async function runCoordinator(config: ExperimentConfig, print: (line: string) => void): Promise<RunResult> {
  if (config.model.inputs === undefined) {
    throw new ConfigError('model.inputs is required for `cohort coordinator` (the number of input features): the coordinator never sees the data it would infer it from');
  }
  const model = buildModel(config.model, config.model.inputs, config.seed);
  const initialWeights = readModelWeights(model);
  model.dispose();
  const strategy = createStrategy(config);
  const coordinator = await Coordinator.start({
    strategy,
    initialWeights,
    rounds: config.rounds,
    host: config.coordinator.host,
    port: config.coordinator.port,
    roundTimeoutMs: config.coordinator.roundTimeoutSeconds * 1000,
    waitForClientsMs: config.coordinator.waitForClientsSeconds * 1000,
    maxRoundRetries: config.coordinator.maxRoundRetries,
    seed: config.seed,
    logger: pino({ level: config.logLevel }, pino.destination(2)),
    ...(config.standardization === 'federated' ? { standardizeFeatures: config.model.inputs } : {}),
    onRound: (record) => print(formatRound(record, config.rounds)),
  });
  print(`coordinator for "${config.name}" listening on ${coordinator.url}; waiting for ${strategy.minAvailableClients} clients (run ${coordinator.runId})`);
  const stop = () => void coordinator.close().then(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    return await coordinator.run();
  } finally {
    process.off('SIGINT', stop);
    await coordinator.close();
  }
}

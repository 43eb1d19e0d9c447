import { resolve } from 'node:path';
import { pino } from 'pino';
import { selectBackend } from '../client/backend/index.js';
import { startClient } from '../client/clientNode.js';
import { loadCsvData } from '../client/data/index.js';
import { createTabularNode } from '../client/tabularTrainer.js';
import type { ClientConfig } from './config/clientConfig.js';

/** `cohort client`: one hospital's node; returns when the coordinator ends the run. */
export async function runClient(config: ClientConfig, baseDir: string, print: (line: string) => void): Promise<void> {
  await selectBackend({ preference: config.backend, log: print });
  // Raw rows are kept: federated standardization, if the experiment runs it, starts from them.
  const data = loadCsvData({ ...config.data, standardize: false }, resolve(baseDir));
  print(`${config.name}: ${data.meta.trainRows} train / ${data.meta.testRows} test rows, ${data.meta.featureCount} features`);
  const { trainer, scaler } = createTabularNode({ model: config.model, data, localStandardization: config.data.standardize, optimizer: config.optimizer, seed: config.seed });
  const handle = startClient({
    url: config.coordinator,
    name: config.name,
    trainer,
    scaler,
    logger: pino({ level: config.logLevel }, pino.destination(2)),
    onEvent: (event) => {
      if (event.type === 'welcome') print(`joined run ${event.runId}`);
      if (event.type === 'standardized') print(`applied the federation's standardization of ${event.features} features`);
      if (event.type === 'fit') print(`round ${event.round}: trained on ${event.numExamples} examples, loss ${event.metrics.loss?.toFixed(4)}`);
      if (event.type === 'evaluate') print(`round ${event.round}: test loss ${event.loss.toFixed(4)}, accuracy ${event.metrics.accuracy?.toFixed(4)}`);
      if (event.type === 'disconnected') print(`disconnected (${event.reason}); reconnecting with backoff`);
    },
  });
  process.once('SIGINT', () => void handle.stop().then(() => process.exit(130)));
  const reason = await handle.done;
  print(`run ended: ${reason}`);
  trainer.dispose();
}

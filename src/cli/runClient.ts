import { resolve } from 'node:path';
import { ConfigError } from './config/loadConfig.js';
import { pino } from 'pino';
import { selectBackend } from '../client/backend/index.js';
import { startClient } from '../client/clientNode.js';
import { describeClipped, fitStandardization } from '../client/data/index.js';
import { writeClientModel } from './modelPackage/clientModel.js';
import { dataSummary } from '../client/data/dataSummary.js';
import { isImageData, loadSiteData } from '../client/data/siteData.js';
import { describeRetry } from '../client/node/reconnect.js';
import { createTabularNode } from '../client/tabularTrainer.js';
import { createImageTrainer } from '../client/imageTrainer.js';
import { openImageData } from '../client/data/images/openImageData.js';
import { publicKeyFromBase64 } from '../crypto/identity.js';
import { buildModelAsync } from '../client/model/buildModel.js';
import { loadClientModelFile } from './modelDistribution.js';
import { writeModelWeights } from '../client/model/modelWeights.js';
import { saveLayersModel } from '../client/model/saveModel.js';
import type { ClientConfig } from './config/clientConfig.js';
import { exitWhenFlushed } from './exitWhenFlushed.js';
import { loadIdentity, openAuditTrail, readPem, securityPolicy } from './nodeSecurity.js';

/** `cohort client`: one hospital's node; returns when the coordinator ends the run. */
export async function runClient(config: ClientConfig, baseDir: string, print: (line: string) => void): Promise<void> {
  await selectBackend({ preference: config.backend, log: print });
  // Raw rows are kept: federated standardization, if the experiment runs it, starts from them. Rows scaled from
  // public ranges stay so: such a node has no feature scaler, so it neither sends moments nor applies another scale.
  // Images are listed and checked, not decoded: training decodes them a batch at a time, so a site's images need not fit
  // in memory. A table is read whole.
  const images = isImageData(config.data) ? openImageData(config.data, resolve(baseDir), print) : undefined;
  const table = images ? undefined : await loadSiteData(config.data, resolve(baseDir), print);
  const meta = images?.meta ?? table!.meta;
  print(dataSummary(config.name, meta));
  const publicScaling = meta.publicScaling;
  if (publicScaling) {
    const clipped = describeClipped(publicScaling);
    print(`features scaled from public ranges${clipped ? `; values outside their range clipped to it: ${clipped}` : ''}`);
  }
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const { identity, persistent } = loadIdentity(config.identity, baseDir, print);
  const auditPath = config.audit?.log ?? (persistent ? `${config.name}.audit.jsonl` : undefined);
  if (config.audit?.failClosed && !auditPath) throw new ConfigError('audit.failClosed needs an audit log: set audit.log (or identity.key, which defaults it to <name>.audit.jsonl)');
  // Fail-closed: the node leaves the run at the first entry it cannot write (the handle exists by then).
  let auditFailure: Error | undefined;
  let stopForAudit = (): void => undefined;
  const onAuditFailure = config.audit?.failClosed ? (e: Error) => void ((auditFailure ??= e), stopForAudit()) : undefined;
  const audit = auditPath ? openAuditTrail(resolve(baseDir, auditPath), identity, logger, onAuditFailure) : undefined;
  if (audit) print(`audit log of what this node sends: ${audit.path}`);
  if (!config.coordinatorKey) print('coordinatorKey is not set: any coordinator that completes the handshake is trusted (pin it in production)');
  const tls = config.tls
    ? {
        ...(config.tls.ca ? { ca: readPem(baseDir, config.tls.ca)! } : {}),
        ...(config.tls.cert ? { cert: readPem(baseDir, config.tls.cert)! } : {}),
        ...(config.tls.key ? { key: readPem(baseDir, config.tls.key)! } : {}),
      }
    : undefined;
  // A model file comes from the coordinator (or a local copy); the client hashes what it got and checks its pin.
  const modelFile = config.model.type === 'file' ? await loadClientModelFile(config.model, baseDir, meta.featureCount, config.seed, config.security?.modelSha256, { onRetry: print }) : undefined;
  if (modelFile) print(`model: ${config.model.type === 'file' ? config.model.path : ''}, sha256 ${modelFile.sha256}`);
  const model = modelFile ? { prebuilt: modelFile.model, model: { ...config.model, outputs: modelFile.model.outputs[0]!.shape[1]! } } : { model: config.model };
  const common = { ...model, optimizer: config.optimizer, seed: config.seed, datasetFingerprint: meta.schemaFingerprint };
  // A file that fails to decode mid-training is named here, in the site's own log; the coordinator hears of a failed round only.
  const onSetAside = (e: Error) => print(`set aside, no longer trained on: ${e.message}`);
  const { trainer, scaler } = images
    ? { trainer: createImageTrainer({ ...common, data: images, onSetAside }).trainer, scaler: undefined }
    : createTabularNode({ ...common, data: table!, localStandardization: !isImageData(config.data) && config.data.standardize });
  /** The run this node joined and the last round it evaluated: recorded with its final model. */
  const progress = { run: '', round: 0 };
  const handle = startClient({
    url: config.coordinator,
    name: config.name,
    trainer,
    ...(publicScaling || !scaler ? {} : { scaler }),
    ...(meta.schema ? { dataSchema: meta.schema } : {}),
    logger,
    identity,
    ...(config.coordinatorKey ? { coordinatorKey: publicKeyFromBase64(config.coordinatorKey, 'coordinatorKey') } : {}),
    ...(tls ? { tls } : {}),
    ...(audit ? { audit } : {}),
    ...(config.security ? { security: securityPolicy(config.security) } : {}),
    ...(config.ckksThreads !== undefined ? { ckksThreads: config.ckksThreads } : {}),
    onEvent: (event) => {
      if (event.type === 'welcome') print(`joined run ${(progress.run = event.runId)}`);
      if (event.type === 'standardized') print(`applied the federation's standardization of ${event.features} features`);
      if (event.type === 'fit') print(`round ${event.round}: trained on ${event.numExamples} examples, loss ${event.metrics.loss?.toFixed(4)}`);
      if (event.type === 'evaluate') progress.round = event.round;
      if (event.type === 'evaluate') print(`round ${event.round}: test loss ${event.loss.toFixed(4)}, accuracy ${event.metrics.accuracy?.toFixed(4)}`);
      // The run's last global (sent once the rounds are over): the model file below is it, and says this round.
      if (event.type === 'final-model') progress.round = event.round;
      if (event.type === 'refused') print(`refused: ${event.reason}`);
      if (event.type === 'tls-problem') print(`TLS: ${event.problem}`);
      // Transient: no coordinator yet, a lost connection, a refusal for load. The node keeps trying.
      if (event.type === 'retrying') print(describeRetry(event, config.coordinator));
    },
  });
  stopForAudit = () => void handle.stop();
  process.once('SIGINT', () => void handle.stop().then(() => exitWhenFlushed(130)));
  try {
    const reason = await handle.done;
    if (auditFailure) throw new Error(`the audit log cannot be written (audit.failClosed), so this node left the run: ${auditFailure.message}`);
    print(`run ended: ${reason}`);
    // The node keeps the final model (under CKKS it is the only place the model exists in the clear).
    const weights = handle.globalWeights();
    if (weights) {
      const out = resolve(baseDir, config.finalModel?.out ?? `${config.name}-model`);
      const schema = meta.schema;
      if (modelFile || !schema) {
        // A model file's architecture is the file's, and images have no columns: the weights alone, nothing to fold.
        const model = await buildModelAsync(config.model.type === 'file' && modelFile ? { ...config.model, json: modelFile.json } : config.model, meta.featureCount, config.seed);
        writeModelWeights(model, weights);
        await saveLayersModel(model, out, `cohort-fl client ${config.name} (${reason})`);
        model.dispose();
        print(`final model written to ${out} (model.json + weights.bin)`);
      } else {
        // The z-score this node trained with is folded in, so the model reads raw rows (`cohort predict`).
        const csv = isImageData(config.data) ? undefined : config.data;
        const own = csv?.standardize && table ? fitStandardization(table.train) : undefined;
        const scaling = scaler?.applied
          ? { ...scaler.applied, source: 'federation' as const }
          : own && { mean: Float32Array.from(own.mean), std: Float32Array.from(own.std, (v, j) => (own.constant[j] ? 0 : v)), source: 'this-site' as const };
        await writeClientModel({
          out, spec: config.model, inputs: meta.featureCount, seed: config.seed, weights, schema,
          ...(scaling ? { scaling } : {}), ...(csv?.publicScaling ? { publicScaling: csv.publicScaling } : {}), run: progress.run, round: progress.round, generatedBy: `cohort-fl client ${config.name} (${reason})`,
        });
        print(`final model written to ${out} (model.json + weights.bin + preprocessing.json: \`cohort predict --model ${out} --data rows.csv\`)`);
      }
    }
  } finally {
    trainer.dispose();
    audit?.close();
  }
}

import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { saveLayersModel } from '../client/model/saveModel.js';
import { buildModel } from '../client/model/buildModel.js';
import { quietCpuBanner } from '../client/backend/quietCpuBanner.js';
import { modelSpecSchema, specInputs, specOutputs } from '../client/model/modelSpec.js';
import { writeModelWeights } from '../client/model/modelWeights.js';
import { RunStore, StoreError } from '../coordinator/store/runStore.js';
import { canonicalJson, type JsonValue } from '../crypto/canonicalJson.js';
import { foldStandardization } from './modelPackage/foldStandardization.js';
import { encodedFeatureNames } from './modelPackage/rawRows.js';
import { writePreprocessing, type Preprocessing } from './modelPackage/preprocessing.js';
import type { PublicScaling } from '../client/data/publicScaling.js';

interface StoredManifest {
  readonly config?: { readonly model?: unknown; readonly seed?: number; readonly standardization?: string; readonly publicScaling?: PublicScaling };
  readonly configHash?: string;
}

/**
 * `cohort export`: writes a stored global model in TensorFlow.js's layers format (model.json + weights.bin),
 * which `tf.loadLayersModel` reads, with what it needs to predict on raw rows: the federation's standardization
 * folded into the first layer, and beside it preprocessing.json (the data schema, levels, label, the run's
 * manifest hash). `cohort predict` reads the folder.
 */
export async function runExport(options: { store: string; run: string; round?: number; out: string }, print: (line: string) => void): Promise<void> {
  const store = new RunStore(resolve(options.store));
  try {
    const run = store.run(options.run);
    if (!run) throw new StoreError(`no run "${options.run}" in ${options.store} (see \`cohort runs\`)`);
    const checkpoint = store.checkpoint(run.id, options.round);
    if (!checkpoint && store.encryptedCheckpoint(run.id)) {
      throw new StoreError(`run ${run.id} ran under CKKS: the coordinator never held its model in the clear; each client wrote the final model itself, with its preprocessing (finalModel.out in its config, default <name>-model/), which \`cohort predict\` reads`);
    }
    if (!checkpoint) {
      throw new StoreError(options.round === undefined ? `run ${run.id} has no completed round yet` : `run ${run.id} has no checkpoint for round ${options.round} (last completed: ${run.lastRound})`);
    }
    const manifest = store.manifest(run.id) as StoredManifest;
    const spec = modelSpecSchema.parse(manifest.config?.model);
    // A simulation's config may leave model.inputs to the data; the first kernel's rows say it.
    const inputs = specInputs(spec) ?? (spec.type === 'mlp' ? checkpoint.weights[0]?.shape[0] : undefined);
    if (inputs === undefined) throw new StoreError(`run ${run.id}'s manifest does not record model.inputs`);
    const standardization = store.standardization(run.id);
    const publicScaling = manifest.config?.standardization === 'public' ? manifest.config.publicScaling : undefined;
    const scaling: Preprocessing['standardization'] = standardization ? 'folded' : publicScaling ? 'public' : manifest.config?.standardization === 'local' ? 'per-site' : 'none';
    const weights = standardization ? foldStandardization(checkpoint.weights, standardization[0]!.data, standardization[1]!.data) : checkpoint.weights;
    quietCpuBanner();
    const model = buildModel(spec, inputs, manifest.config?.seed ?? 0);
    writeModelWeights(model, weights);
    const out = resolve(options.out);
    await saveLayersModel(model, out, `cohort-fl (run ${run.id}, round ${checkpoint.round}, sha256 ${checkpoint.modelSha256}${standardization ? ', standardization folded into the first layer' : ''})`);
    model.dispose();
    // Pinned in the experiment or taken from the first site, the coordinator recorded it with the run.
    const schema = store.dataSchema(run.id);
    writePreprocessing(out, {
      format: 'cohort-fl-preprocessing',
      version: 1,
      run: run.id,
      round: checkpoint.round,
      modelSha256: checkpoint.modelSha256,
      manifestSha256: createHash('sha256').update(canonicalJson(manifest as JsonValue)).digest('hex'),
      configHash: manifest.configHash ?? run.configHash,
      ...(schema ? { schema, featureNames: encodedFeatureNames(schema) } : {}),
      standardization: scaling,
      ...(standardization ? { featureMean: [...standardization[0]!.data], featureStd: [...standardization[1]!.data] } : {}),
      ...(publicScaling ? { publicScaling } : {}),
      outputs: specOutputs(spec),
    });
    print(`wrote ${join(out, 'model.json')}, weights.bin and preprocessing.json: run ${run.id}, round ${checkpoint.round}, model sha256 ${checkpoint.modelSha256}`);
    if (scaling === 'folded') print(`the federation's standardization of ${inputs} features is folded into the first layer: the model takes raw feature values`);
    if (scaling === 'public') print('features were scaled from public ranges (standardization: public): preprocessing.json carries them and `cohort predict` applies them to raw rows');
    if (scaling === 'per-site') print('this run used per-site standardization (standardization: local): each site scaled with its own statistics, so the model has no one preprocessing for raw rows');
    print(schema ? `data schema: ${schema.features.length} columns, label ${schema.label.name} (\`cohort predict --model ${options.out} --data rows.csv\`)` : 'no data schema recorded for this run (no site announced one): `cohort predict` cannot read raw rows for it');
  } finally {
    store.close();
  }
}

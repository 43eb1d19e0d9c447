import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildModel } from '../client/model/buildModel.js';
import { modelSpecSchema } from '../client/model/modelSpec.js';
import { writeModelWeights } from '../client/model/modelWeights.js';
import { RunStore, StoreError } from '../coordinator/store/runStore.js';

/**
 * `cohort export`: writes a stored global model in TensorFlow.js's layers format (model.json + weights.bin),
 * which `tf.loadLayersModel` reads, e.g. from a static web server or with tfjs-node's file:// handler.
 */
export async function runExport(options: { store: string; run: string; round?: number; out: string }, print: (line: string) => void): Promise<void> {
  const store = new RunStore(resolve(options.store));
  try {
    const run = store.run(options.run);
    if (!run) throw new StoreError(`no run "${options.run}" in ${options.store} (see \`cohort runs\`)`);
    const checkpoint = store.checkpoint(run.id, options.round);
    if (!checkpoint) {
      throw new StoreError(options.round === undefined ? `run ${run.id} has no completed round yet` : `run ${run.id} has no checkpoint for round ${options.round} (last completed: ${run.lastRound})`);
    }
    const manifest = store.manifest(run.id) as { config?: { model?: unknown; seed?: number } };
    const spec = modelSpecSchema.parse(manifest.config?.model);
    if (spec.inputs === undefined) throw new StoreError(`run ${run.id}'s manifest does not record model.inputs`);
    const model = buildModel(spec, spec.inputs, manifest.config?.seed ?? 0);
    writeModelWeights(model, checkpoint.weights);
    const out = resolve(options.out);
    mkdirSync(out, { recursive: true });
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
        writeFileSync(join(out, 'weights.bin'), weights);
        const modelJson = {
          format: 'layers-model',
          generatedBy: `cohort-fl (run ${run.id}, round ${checkpoint.round}, sha256 ${checkpoint.modelSha256})`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        };
        writeFileSync(join(out, 'model.json'), JSON.stringify(modelJson));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
      }),
    );
    model.dispose();
    print(`wrote ${join(out, 'model.json')} and weights.bin: run ${run.id}, round ${checkpoint.round}, model sha256 ${checkpoint.modelSha256}`);
  } finally {
    store.close();
  }
}

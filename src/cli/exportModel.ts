import { join, resolve } from 'node:path';
import { saveLayersModel } from '../client/model/saveModel.js';
import { buildModel } from '../client/model/buildModel.js';
import { modelSpecSchema, specInputs } from '../client/model/modelSpec.js';
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
    const inputs = specInputs(spec);
    if (inputs === undefined) throw new StoreError(`run ${run.id}'s manifest does not record model.inputs`);
    const model = buildModel(spec, inputs, manifest.config?.seed ?? 0);
    writeModelWeights(model, checkpoint.weights);
    const out = resolve(options.out);
    await saveLayersModel(model, out, `cohort-fl (run ${run.id}, round ${checkpoint.round}, sha256 ${checkpoint.modelSha256})`);
    model.dispose();
    print(`wrote ${join(out, 'model.json')} and weights.bin: run ${run.id}, round ${checkpoint.round}, model sha256 ${checkpoint.modelSha256}`);
  } finally {
    store.close();
  }
}

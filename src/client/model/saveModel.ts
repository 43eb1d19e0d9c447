import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a model in TensorFlow.js's layers format (model.json + weights.bin) to a folder, which
 * `tf.loadLayersModel` reads (from a static server, or with tfjs-node's file:// handler). No tfjs-node needed.
 */
export async function saveLayersModel(model: tf.LayersModel, outDir: string, generatedBy: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      writeFileSync(join(outDir, 'weights.bin'), weights);
      const modelJson = {
        format: 'layers-model',
        generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(outDir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    }),
  );
}

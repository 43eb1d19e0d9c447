import * as tf from '@tensorflow/tfjs';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a model in TensorFlow.js's layers format (model.json + weights.bin) to a folder, which
 * `tf.loadLayersModel` reads (from a static server, or with tfjs-node's file:// handler). No tfjs-node needed.
 * The files are 0600 and a new folder 0700: a model trained on patients' data is theirs to share, not the
 * machine's other users'.
 */
export async function saveLayersModel(model: tf.LayersModel, outDir: string, generatedBy: string): Promise<void> {
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      writePrivately(join(outDir, 'weights.bin'), weights);
      const modelJson = {
        format: 'layers-model',
        generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writePrivately(join(outDir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    }),
  );
}

/** Writes `data` with mode 0600, also over an existing file (the mode option only applies when creating one). */
function writePrivately(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}

import * as tf from '@tensorflow/tfjs';
import { importOptional } from './importOptional.js';

/**
 * Loads a native TensorFlow binding. Both packages register tfjs's `tensorflow` backend when their module
 * is evaluated; they cannot install on machines without libtensorflow, which is why they are optional.
 */
export async function loadTfjsNode(specifier: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<boolean> {
  await importOptional(specifier);
  if (tf.findBackendFactory('tensorflow') === null) {
    // The package loaded but registered its backend with another copy of @tensorflow/tfjs-core.
    throw new Error(
      `${specifier} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs ` +
        '(two copies of @tensorflow/tfjs-core? check `npm ls @tensorflow/tfjs-core`)',
    );
  }
  return true;
}

import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backendName.js';
import { loadTfjsNode } from './loadTfjsNode.js';
import { loadWasm } from './loadWasm.js';
import { loadWebgpu } from './loadWebgpu.js';

/**
 * Makes one backend available to tfjs (imports it, registers it). Resolves true when it is ready for
 * `tf.setBackend`; throws (or resolves false) when this machine cannot run it, the error saying why.
 */
export type BackendLoader = () => Promise<boolean>;

export const DEFAULT_LOADERS: Readonly<Record<BackendName, BackendLoader>> = {
  'tensorflow-gpu': () => loadTfjsNode('@tensorflow/tfjs-node-gpu'),
  tensorflow: () => loadTfjsNode('@tensorflow/tfjs-node'),
  webgpu: loadWebgpu,
  wasm: loadWasm,
  // Bundled with @tensorflow/tfjs.
  cpu: () => Promise.resolve(tf.findBackendFactory('cpu') !== null),
};

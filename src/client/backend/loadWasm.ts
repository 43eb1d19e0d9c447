import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { registerWasmTrainingKernels } from './registerWasmTrainingKernels.js';

const SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';

let wasmPathsSet = false;

/**
 * The folder holding the backend's .wasm binaries, as a file path ending in a separator.
 * Node resolves the package to `dist/tf-backend-wasm.node.js`; the binaries sit beside it.
 */
export function wasmBinaryDirectory(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@tensorflow/tfjs-backend-wasm');
  return dirname(entry) + sep;
}

/**
 * Loads `@tensorflow/tfjs-backend-wasm` for Node and registers the kernels training needs that it lacks.
 *
 * In Node the Emscripten loader reads the binary with `fs.readFileSync` (never `fetch`), from the folder
 * given to `setWasmPaths`. Pointing that at the package's own dist folder makes loading independent of
 * where a bundler or test runner puts the JavaScript. Node's wasm runs single-threaded (tfjs disables
 * threads in Node), with SIMD.
 */
export async function loadWasm(): Promise<boolean> {
  const wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    const directory = wasmBinaryDirectory();
    if (!existsSync(join(directory, SIMD_BINARY))) {
      throw new Error(`${SIMD_BINARY} not found in ${directory} (broken @tensorflow/tfjs-backend-wasm install?)`);
    }
    wasmBackend.setWasmPaths(directory);
    wasmPathsSet = true;
  }
  registerWasmTrainingKernels();
  return true;
}

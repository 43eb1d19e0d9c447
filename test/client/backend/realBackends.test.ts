import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend, TFJS_BACKEND_NAME } from '../../../src/client/backend/index.js';
import { wasmBinaryDirectory } from '../../../src/client/backend/loadWasm.js';

// The real loaders, as they behave on whatever machine runs the suite.

function installed(specifier: string): boolean {
  try {
    createRequire(import.meta.url).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

describe('real backends', () => {
  it('selects wasm and computes with it (binaries loaded from the package folder)', async () => {
    expect(wasmBinaryDirectory()).toMatch(/tfjs-backend-wasm[/\\]dist[/\\]$/);
    const lines: string[] = [];
    const selection = await selectBackend({ preference: 'wasm', env: {}, log: (line) => lines.push(line) });
    expect(selection).toEqual({ backend: 'wasm', tried: [{ backend: 'wasm' }] });
    expect(lines).toEqual(['backend: wasm']);
    expect(tf.getBackend()).toBe('wasm');
    const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
    expect(Array.from(await product.data())).toEqual([17, 39]);
    expect(tf.env().getBool('WASM_HAS_SIMD_SUPPORT')).toBe(true);
  });

  it('selects cpu', async () => {
    const selection = await selectBackend({ preference: 'cpu', env: {}, log: () => {} });
    expect(selection.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(Array.from(await tf.add(tf.scalar(2), tf.scalar(3)).data())).toEqual([5]);
  });

  it.each(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const)(
    'reports %s as not installed when it is absent',
    async (specifier) => {
      const backend = specifier === '@tensorflow/tfjs-node-gpu' ? 'tensorflow-gpu' : 'tensorflow';
      if (installed(specifier)) return; // Only a machine with libtensorflow can say more.
      await expect(selectBackend({ preference: backend, env: {}, log: () => {} })).rejects.toThrow(
        `training backend '${backend}' (from the config) is not available: module not installed`,
      );
    },
  );

  it('auto picks the first backend that works here and makes it current', async () => {
    const lines: string[] = [];
    const selection = await selectBackend({ env: {}, log: (line) => lines.push(line) });
    const last = selection.tried.at(-1);
    expect(last).toEqual({ backend: selection.backend });
    expect(selection.tried.slice(0, -1).every((attempt) => typeof attempt.error === 'string')).toBe(true);
    expect(tf.getBackend()).toBe(TFJS_BACKEND_NAME[selection.backend]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^backend: ${selection.backend}( \\(tried .+\\))?$`));
    if (!installed('@tensorflow/tfjs-node-gpu')) {
      expect(selection.tried[0]).toEqual({ backend: 'tensorflow-gpu', error: 'module not installed' });
    }
  });
});

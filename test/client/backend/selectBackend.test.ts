import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BACKEND_NAMES,
  ModuleNotInstalledError,
  selectBackend,
  type BackendLoader,
  type BackendName,
} from '../../../src/client/backend/index.js';

// The selection logic, with the GPU loaders injected: they cannot run on machines without a GPU.
// wasm and cpu stay real, so a selection that lands on them really switches tfjs.

const notInstalled = (specifier: string): BackendLoader => () =>
  Promise.reject(new ModuleNotInstalledError(specifier));
const failing = (reason: string): BackendLoader => () => Promise.reject(new Error(reason));

/** A loader that registers a stand-in backend (the cpu backend's factory) under a tfjs name, as a real one would. */
function registering(tfjsName: string, calls: string[], label: string): BackendLoader {
  return () => {
    calls.push(label);
    if (tf.findBackendFactory(tfjsName) === null) tf.registerBackend(tfjsName, tf.findBackendFactory('cpu'));
    return Promise.resolve(true);
  };
}

function recording(loader: BackendLoader, calls: string[], label: string): BackendLoader {
  return () => {
    calls.push(label);
    return loader();
  };
}

const noGpu: Partial<Record<BackendName, BackendLoader>> = {
  'tensorflow-gpu': notInstalled('@tensorflow/tfjs-node-gpu'),
  tensorflow: notInstalled('@tensorflow/tfjs-node'),
  webgpu: failing('no GPU adapter'),
};

afterEach(async () => {
  await tf.setBackend('cpu');
  for (const name of ['tensorflow', 'webgpu']) {
    if (tf.findBackendFactory(name) !== null) tf.removeBackend(name);
  }
});

describe('selectBackend: auto', () => {
  it('walks the list and lands on wasm when the GPU backends fail, logging why each failed', async () => {
    const lines: string[] = [];
    const selection = await selectBackend({ env: {}, loaders: noGpu, log: (line) => lines.push(line) });
    expect(selection.backend).toBe('wasm');
    expect(selection.tried).toEqual([
      { backend: 'tensorflow-gpu', error: 'module not installed' },
      { backend: 'tensorflow', error: 'module not installed' },
      { backend: 'webgpu', error: 'no GPU adapter' },
      { backend: 'wasm' },
    ]);
    expect(lines).toEqual([
      'backend: wasm (tried tensorflow-gpu: module not installed, tensorflow: module not installed, webgpu: no GPU adapter)',
    ]);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('takes the first backend that works and loads nothing after it', async () => {
    const calls: string[] = [];
    const loaders: Partial<Record<BackendName, BackendLoader>> = {
      'tensorflow-gpu': registering('tensorflow', calls, 'tensorflow-gpu'),
      tensorflow: recording(failing('unexpected'), calls, 'tensorflow'),
      webgpu: recording(failing('unexpected'), calls, 'webgpu'),
      wasm: recording(failing('unexpected'), calls, 'wasm'),
      cpu: recording(failing('unexpected'), calls, 'cpu'),
    };
    const lines: string[] = [];
    const selection = await selectBackend({ env: {}, loaders, log: (line) => lines.push(line) });
    expect(selection).toEqual({ backend: 'tensorflow-gpu', tried: [{ backend: 'tensorflow-gpu' }] });
    expect(calls).toEqual(['tensorflow-gpu']);
    expect(lines).toEqual(['backend: tensorflow-gpu']);
    expect(tf.getBackend()).toBe('tensorflow');
  });

  it('keeps the order tensorflow-gpu, tensorflow, webgpu, wasm, cpu', async () => {
    const calls: string[] = [];
    const loaders: Partial<Record<BackendName, BackendLoader>> = {};
    for (const name of BACKEND_NAMES) loaders[name] = recording(failing(`${name} broken`), calls, name);
    loaders.cpu = registering('cpu', calls, 'cpu');
    const selection = await selectBackend({ env: {}, loaders, log: () => {} });
    expect(calls).toEqual(['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(selection.backend).toBe('cpu');
    expect(selection.tried.map((attempt) => attempt.error)).toEqual([
      'tensorflow-gpu broken',
      'tensorflow broken',
      'webgpu broken',
      'wasm broken',
      undefined,
    ]);
  });

  it('lands on webgpu when only the native bindings are missing', async () => {
    const calls: string[] = [];
    const loaders = { ...noGpu, webgpu: registering('webgpu', calls, 'webgpu') };
    const selection = await selectBackend({ env: {}, loaders, log: () => {} });
    expect(selection.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
  });

  it('counts a loader that resolves false, or a backend that tfjs does not know, as a failure', async () => {
    const loaders: Partial<Record<BackendName, BackendLoader>> = {
      ...noGpu,
      tensorflow: () => Promise.resolve(false),
      // Claims success without registering anything: tf.setBackend must refuse it.
      webgpu: () => Promise.resolve(true),
    };
    const selection = await selectBackend({ env: {}, loaders, log: () => {} });
    expect(selection.backend).toBe('wasm');
    expect(selection.tried[1]).toEqual({ backend: 'tensorflow', error: 'not available' });
    expect(selection.tried[2]?.error).toMatch(/webgpu.*not found/);
  });

  it('throws, listing every reason, when nothing works', async () => {
    const loaders = { ...noGpu, wasm: failing('no wasm'), cpu: failing('no cpu') };
    await expect(selectBackend({ env: {}, loaders, log: () => {} })).rejects.toThrow(
      'no training backend works: tensorflow-gpu: module not installed, tensorflow: module not installed, ' +
        'webgpu: no GPU adapter, wasm: no wasm, cpu: no cpu',
    );
  });
});

describe('selectBackend: explicit preference', () => {
  it('uses the configured backend without trying the ones before it', async () => {
    const calls: string[] = [];
    const loaders = {
      'tensorflow-gpu': recording(failing('unexpected'), calls, 'tensorflow-gpu'),
      webgpu: recording(failing('unexpected'), calls, 'webgpu'),
    };
    const lines: string[] = [];
    const selection = await selectBackend({ preference: 'cpu', env: {}, loaders, log: (line) => lines.push(line) });
    expect(selection).toEqual({ backend: 'cpu', tried: [{ backend: 'cpu' }] });
    expect(calls).toEqual([]);
    expect(lines).toEqual(['backend: cpu']);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('throws, naming the backend and why, instead of falling back', async () => {
    const calls: string[] = [];
    const loaders = { ...noGpu, wasm: recording(failing('unexpected'), calls, 'wasm') };
    const selection = selectBackend({ preference: 'webgpu', env: {}, loaders, log: () => {} });
    await expect(selection).rejects.toThrow(/training backend 'webgpu' \(from the config\) is not available: no GPU adapter/);
    expect(calls).toEqual([]);
  });

  it('lets COHORT_BACKEND override the config', async () => {
    const selection = await selectBackend({
      preference: 'cpu',
      env: { COHORT_BACKEND: 'wasm' },
      loaders: noGpu,
      log: () => {},
    });
    expect(selection.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('names COHORT_BACKEND when the backend it asks for fails', async () => {
    await expect(
      selectBackend({ preference: 'cpu', env: { COHORT_BACKEND: 'tensorflow-gpu' }, loaders: noGpu, log: () => {} }),
    ).rejects.toThrow(/'tensorflow-gpu' \(from COHORT_BACKEND\) is not available: module not installed/);
  });

  it('lets COHORT_BACKEND=auto override a configured backend, and ignores an empty one', async () => {
    const auto = await selectBackend({ preference: 'webgpu', env: { COHORT_BACKEND: ' AUTO ' }, loaders: noGpu, log: () => {} });
    expect(auto.backend).toBe('wasm');
    const empty = await selectBackend({ preference: 'cpu', env: { COHORT_BACKEND: '' }, loaders: noGpu, log: () => {} });
    expect(empty.backend).toBe('cpu');
  });
});

describe('selectBackend: invalid names', () => {
  it('refuses an unknown COHORT_BACKEND, listing the allowed values', async () => {
    await expect(selectBackend({ env: { COHORT_BACKEND: 'gpu' }, loaders: noGpu, log: () => {} })).rejects.toThrow(
      'unknown training backend "gpu" in COHORT_BACKEND; allowed: auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu',
    );
  });

  it('refuses an unknown configured backend', async () => {
    // A config file is untyped at run time.
    const preference = 'tpu' as unknown as BackendName;
    await expect(selectBackend({ preference, env: {}, loaders: noGpu, log: () => {} })).rejects.toThrow(
      /unknown training backend "tpu" in the config; allowed: auto, tensorflow-gpu/,
    );
  });
});

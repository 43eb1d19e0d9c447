import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { importOptional } from './importOptional.js';

/** Where distributions put the Vulkan loader that Dawn opens on Linux. */
const VULKAN_LOADERS = ['x86_64-linux-gnu', 'aarch64-linux-gnu', ''].flatMap((dir) =>
  ['/usr/lib', '/lib', '/usr/lib64', '/usr/local/lib'].map((root) => `${root}${dir ? `/${dir}` : ''}/libvulkan.so.1`),
);

/** The part of the `webgpu` package (Dawn for Node) used here; typed locally so the package stays optional. */
interface DawnModule {
  create(options: string[]): GpuLike;
  globals: object;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<unknown>;
}

function isDawnModule(value: unknown): value is DawnModule {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof DawnModule, unknown>>;
  return typeof candidate.create === 'function' && typeof candidate.globals === 'object' && candidate.globals !== null;
}

/**
 * Loads WebGPU through Dawn (`webgpu` package) and `@tensorflow/tfjs-backend-webgpu`.
 *
 * The adapter is requested before anything global is touched, so a machine without a usable GPU (or with
 * a software Vulkan that Dawn refuses) is left as it was. The tfjs backend registers itself only if
 * `navigator.gpu` exists when its module is evaluated, so `navigator.gpu` is defined first and the module
 * imported after; Node's `navigator` has a getter-only shape, hence `Object.defineProperty`.
 */
export async function loadWebgpu(): Promise<boolean> {
  // Without a Vulkan loader Dawn can only fail, after printing a native warning to stderr: skip it quietly.
  if (process.platform === 'linux' && !VULKAN_LOADERS.some((p) => existsSync(p)) && !process.env.LD_LIBRARY_PATH) {
    throw new Error('no Vulkan loader (libvulkan.so.1) on this machine');
  }
  const dawn = await importOptional('webgpu');
  if (!isDawnModule(dawn)) throw new Error("the 'webgpu' package does not export create() and globals");
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null || adapter === undefined) throw new Error('no GPU adapter');

  // GPUBufferUsage, GPUMapMode, GPUShaderStage...: the tfjs backend reads them as globals. Keep existing ones.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  if (typeof globalThis.navigator === 'undefined') {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
  }
  Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });

  await importOptional('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu') === null) {
    throw new Error(
      '@tensorflow/tfjs-backend-webgpu did not register: it was evaluated before navigator.gpu was defined ' +
        '(import it only through selectBackend) or against another copy of @tensorflow/tfjs-core',
    );
  }
  return true;
}

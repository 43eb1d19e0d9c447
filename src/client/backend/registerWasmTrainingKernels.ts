import * as tf from '@tensorflow/tfjs';
import { wasmConv2dFilterGradientConfig } from './wasmConv2dFilterGradient.js';
import { wasmCpuFallbackKernelConfigs } from './wasmCpuFallbackKernels.js';

/**
 * Registers, for the wasm backend, the kernels CNN training needs that @tensorflow/tfjs-backend-wasm lacks.
 * Idempotent, and a kernel the wasm backend already has (a later tfjs release) is left alone.
 * @returns the kernel names registered by this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const registered: string[] = [];
  for (const config of [wasmConv2dFilterGradientConfig, ...wasmCpuFallbackKernelConfigs]) {
    if (tf.getKernel(config.kernelName, 'wasm') !== undefined) continue;
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  return registered;
}

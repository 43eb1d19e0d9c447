import * as tf from '@tensorflow/tfjs';
import {
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  UnsortedSegmentSum,
} from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.x lacks and that training can reach besides the
 * conv2d filter gradient: depthwise convolutions (DepthwiseConv2D, SeparableConv2D layers) and gather's
 * gradient (Embedding layers, via unsortedSegmentSum). They are rarer and cheaper than Conv2D's, so they
 * run the cpu backend's kernel on copies of the data rather than a wasm formulation of their own.
 */
export const WASM_CPU_FALLBACK_KERNELS: readonly string[] = [
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  UnsortedSegmentSum,
];

/** A wasm kernel that copies its inputs to the cpu backend, runs the cpu kernel there, and copies back. */
export function cpuFallbackKernel(kernelName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as tf.KernelBackend;
    const cpu = tf.findBackend('cpu') as tf.KernelBackend | null;
    const kernel = tf.getKernel(kernelName, 'cpu');
    if (cpu === null || kernel === undefined) {
      throw new Error(`${kernelName} (wasm): needs the cpu backend's kernel, which is not registered`);
    }
    const cpuInputs: NamedTensorInfoMap = {};
    const cpuTensors: TensorInfo[] = [];
    try {
      for (const [name, info] of Object.entries(inputs)) {
        if (info === undefined) continue;
        const copy: TensorInfo = {
          dataId: cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype),
          shape: info.shape,
          dtype: info.dtype,
        };
        cpuTensors.push(copy);
        cpuInputs[name] = copy;
      }
      const out = kernel.kernelFunc({ inputs: cpuInputs, backend: cpu, ...(attrs === undefined ? {} : { attrs }) });
      const outs = Array.isArray(out) ? out : [out];
      cpuTensors.push(...outs);
      const copied = outs.map(
        (info): TensorInfo => ({
          dataId: wasm.write(cpu.readSync(info.dataId), info.shape, info.dtype),
          shape: info.shape,
          dtype: info.dtype,
        }),
      );
      return Array.isArray(out) ? copied : (copied[0] as TensorInfo);
    } finally {
      for (const info of cpuTensors) cpu.disposeData(info.dataId);
    }
  };
}

export const wasmCpuFallbackKernelConfigs: readonly KernelConfig[] = WASM_CPU_FALLBACK_KERNELS.map((kernelName) => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc: cpuFallbackKernel(kernelName),
}));

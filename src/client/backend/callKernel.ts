import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/**
 * Runs one registered kernel of `backendName` directly, inside another kernel (as tfjs backends do among
 * their own kernels). The caller owns the result and disposes it with `backend.disposeData`.
 */
export function callKernel(
  kernelName: string,
  backendName: string,
  backend: tf.KernelBackend,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const kernel = tf.getKernel(kernelName, backendName);
  if (kernel === undefined) throw new Error(`the ${backendName} backend has no ${kernelName} kernel`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) {
    throw new Error(`${kernelName} on ${backendName} returned ${out.length} tensors where one was expected`);
  }
  return out;
}

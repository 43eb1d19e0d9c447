import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels, selectBackend } from '../../../src/client/backend/index.js';
import { wasmConv2dFilterGradient } from '../../../src/client/backend/wasmConv2dFilterGradient.js';

// The kernels wasm lacks, checked against the cpu backend's own gradients on the same numbers.

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', env: {}, log: () => {} });
});

type Pad = 'same' | 'valid' | number;

/** Runs `compute` on each backend with the same inputs (given as plain arrays) and returns the results. */
async function onBothBackends(compute: () => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  const results: Record<string, Float32Array> = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const result = tf.tidy(compute);
    results[backend] = (await result.data()) as Float32Array;
    result.dispose();
  }
  await tf.setBackend('wasm');
  return { cpu: results.cpu as Float32Array, wasm: results.wasm as Float32Array };
}

/** max |a - b| divided by max |reference| (so the bound is relative to the gradient's scale). */
function relativeError(reference: Float32Array, actual: Float32Array): { absolute: number; relative: number } {
  expect(actual.length).toBe(reference.length);
  let absolute = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    absolute = Math.max(absolute, Math.abs((reference[i] as number) - (actual[i] as number)));
    scale = Math.max(scale, Math.abs(reference[i] as number));
  }
  expect(scale).toBeGreaterThan(0);
  return { absolute, relative: absolute / scale };
}

/** Deterministic pseudo-random values in [-1, 1). */
function values(count: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

const conv2dCases: { x: [number, number, number, number]; filter: [number, number, number, number]; strides: number | [number, number]; pad: Pad }[] = [
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
  { x: [3, 9, 8, 2], filter: [3, 3, 2, 5], strides: 2, pad: 'same' },
  { x: [2, 8, 9, 3], filter: [3, 2, 3, 5], strides: 2, pad: 'valid' },
  // 'valid' with stride 3 leaves the last input row and column unused: the kernel must cut its output.
  { x: [1, 11, 12, 2], filter: [4, 3, 2, 3], strides: 3, pad: 'valid' },
  { x: [2, 10, 7, 4], filter: [2, 3, 4, 6], strides: [2, 1], pad: 'same' },
  { x: [2, 6, 6, 1], filter: [3, 3, 1, 2], strides: 1, pad: 1 },
  { x: [4, 1, 1, 3], filter: [1, 1, 3, 2], strides: 1, pad: 'valid' },
];

describe('Conv2DBackpropFilter on wasm', () => {
  it('is registered, and registering again changes nothing', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).toBe(wasmConv2dFilterGradient);
    expect(registerWasmTrainingKernels()).toEqual([]);
  });

  it.each(conv2dCases)('matches the cpu gradient: x $x, filter $filter, strides $strides, pad $pad', async (c) => {
    const xValues = values(c.x.reduce((a, b) => a * b), 1);
    const filterValues = values(c.filter.reduce((a, b) => a * b), 2);
    let dyValues: number[] | undefined;
    const { cpu, wasm } = await onBothBackends(() => {
      const x = tf.tensor4d(xValues, c.x);
      const filter = tf.tensor4d(filterValues, c.filter);
      const forward = (f: tf.Tensor): tf.Tensor4D => tf.conv2d(x, f as tf.Tensor4D, c.strides, c.pad);
      // A random upstream gradient, not ones: every output position must be weighted correctly.
      const outShape = forward(filter).shape;
      dyValues ??= values(outShape.reduce((a, b) => a * b), 3);
      return tf.grad(forward)(filter, tf.tensor4d(dyValues, outShape));
    });
    const error = relativeError(cpu, wasm);
    expect(error.relative).toBeLessThan(1e-4);
  });

  it('frees its intermediate wasm buffers', () => {
    // Called directly, so that only this kernel's buffers are counted.
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 4), [2, 8, 8, 3]);
    const dy = tf.tensor4d(values(2 * 3 * 3 * 4, 5), [2, 3, 3, 4]);
    const attrs = { strides: 2, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] };
    const before = { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
    for (let i = 0; i < 3; i++) {
      const gradient = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
      expect(gradient.shape).toEqual([3, 3, 3, 4]);
      gradient.dispose();
    }
    // The wasm backend's own count: intermediates never become engine tensors.
    expect({ tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() }).toEqual(before);
    tf.dispose([x, dy]);
  });

  it('refuses NCHW with a clear error', () => {
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 3, 3, 3]);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1,
        pad: 'valid',
        dataFormat: 'NCHW',
        filterShape: [3, 3, 2, 3],
      }),
    ).toThrow("Conv2DBackpropFilter (wasm): only dataFormat 'NHWC' is supported, got 'NCHW'");
    tf.dispose([x, dy]);
  });
});

describe('other gradients wasm lacks', () => {
  it.each([
    { strides: 1, pad: 'same' as const, multiplier: 2 },
    { strides: 2, pad: 'valid' as const, multiplier: 1 },
  ])('depthwise conv2d: strides $strides, pad $pad, multiplier $multiplier', async (c) => {
    const xShape: [number, number, number, number] = [2, 7, 6, 3];
    const filterShape: [number, number, number, number] = [3, 3, 3, c.multiplier];
    const xValues = values(xShape.reduce((a, b) => a * b), 6);
    const filterValues = values(filterShape.reduce((a, b) => a * b), 7);
    for (const wrt of ['x', 'filter'] as const) {
      const { cpu, wasm } = await onBothBackends(() => {
        const x = tf.tensor4d(xValues, xShape);
        const filter = tf.tensor4d(filterValues, filterShape);
        const loss = (a: tf.Tensor, f: tf.Tensor): tf.Scalar =>
          tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad).square().sum();
        const [dx, dFilter] = tf.grads(loss)([x, filter]);
        return (wrt === 'x' ? dx : dFilter) as tf.Tensor;
      });
      expect(relativeError(cpu, wasm).relative).toBeLessThan(1e-5);
    }
  });

  it('are registered for wasm and leave nothing behind on either backend', () => {
    for (const name of ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']) {
      expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    }
    const cpu = tf.findBackend('cpu');
    const data = tf.tensor2d(values(5 * 4, 9), [5, 4]);
    const segmentIds = tf.tensor1d([0, 2, 2, 1, 0], 'int32');
    const before = [tf.backend().numDataIds(), cpu.numDataIds()];
    const sum = tf.unsortedSegmentSum(data, segmentIds, 3);
    expect(sum.shape).toEqual([3, 4]);
    sum.dispose();
    expect([tf.backend().numDataIds(), cpu.numDataIds()]).toEqual(before);
    tf.dispose([data, segmentIds]);
  });

  it('gather (an Embedding layer) via unsortedSegmentSum', async () => {
    const table = values(6 * 4, 8);
    const { cpu, wasm } = await onBothBackends(() => {
      const indices = tf.tensor1d([0, 3, 3, 5, 0], 'int32');
      const weights = tf.tensor2d(table, [6, 4]);
      return tf.grad((w: tf.Tensor) => tf.gather(w, indices).square().sum())(weights);
    });
    expect(relativeError(cpu, wasm).absolute).toBeLessThan(1e-6);
  });
});

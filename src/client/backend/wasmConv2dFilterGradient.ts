import * as tf from '@tensorflow/tfjs';
import { backend_util, Conv2D, Conv2DBackpropFilter, Slice, Transpose } from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { callKernel } from './callKernel.js';

type Shape4 = [number, number, number, number];

function shape4(info: TensorInfo, name: string): Shape4 {
  const [a, b, c, d, ...rest] = info.shape;
  if (a === undefined || b === undefined || c === undefined || d === undefined || rest.length > 0) {
    throw new Error(`Conv2DBackpropFilter (wasm): ${name} must be rank 4, got shape [${info.shape.join(', ')}]`);
  }
  return [a, b, c, d];
}

/**
 * The filter gradient of a 2-D convolution, computed with the wasm backend's forward Conv2D (XNNPACK),
 * which @tensorflow/tfjs-backend-wasm 4.x lacks as a kernel of its own.
 *
 * Forward (NHWC, stride s, x padded by `top`/`left`): y[n,p,q,o] = sum_{i,j,c} x[n, p*s+i, q*s+j, c] f[i,j,c,o].
 * So df[i,j,c,o] = sum_{n,p,q} x[n, i+p*s, j+q*s, c] dy[n,p,q,o]: a forward convolution whose batch is the
 * input channels (x transposed to [C, H, W, N]), whose filter is dy transposed to [P, Q, N, O], with
 * stride 1, dilation s and the forward padding. Its output, [C, fh', fw', O], is cut to the filter's
 * [fh, fw] (rows past fh exist when 'valid' padding left input rows unused) and transposed to
 * [fh, fw, C, O]. Forward dilations must be 1, as tfjs's own conv2d gradient requires.
 */
export const wasmConv2dFilterGradient: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter (wasm): needs inputs x and dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm): only dataFormat 'NHWC' is supported, got '${dataFormat}'`);
  }
  const xShape = shape4(x, 'x');
  const dyShape = shape4(dy, 'dy');
  const info = backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode);
  if (!tf.util.arraysEqual(info.outShape, dyShape)) {
    throw new Error(
      `Conv2DBackpropFilter (wasm): dy shape [${dyShape.join(', ')}] differs from the forward output ` +
        `[${info.outShape.join(', ')}]`,
    );
  }
  const [filterHeight, filterWidth, inChannels, outChannels] = filterShape;
  const { top, left } = info.padInfo;
  // Padding below/right so that the output is at least the filter's size; never negative.
  const bottom = Math.max(0, filterHeight + (info.outHeight - 1) * info.strideHeight - info.inHeight - top);
  const right = Math.max(0, filterWidth + (info.outWidth - 1) * info.strideWidth - info.inWidth - left);

  const kernelBackend = backend as tf.KernelBackend;
  const run = (name: string, kernelInputs: Record<string, TensorInfo>, kernelAttrs: NamedAttrMap): TensorInfo =>
    callKernel(name, 'wasm', kernelBackend, kernelInputs, kernelAttrs);
  const temporaries: TensorInfo[] = [];
  try {
    const xT = run(Transpose, { x }, { perm: [3, 1, 2, 0] });
    temporaries.push(xT);
    const dyT = run(Transpose, { x: dy }, { perm: [1, 2, 0, 3] });
    temporaries.push(dyT);
    let grad = run(
      Conv2D,
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [info.strideHeight, info.strideWidth],
      },
    );
    temporaries.push(grad);
    if (grad.shape[1] !== filterHeight || grad.shape[2] !== filterWidth) {
      grad = run(Slice, { x: grad }, { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] });
      temporaries.push(grad);
    }
    return run(Transpose, { x: grad }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const temporary of temporaries) kernelBackend.disposeData(temporary.dataId);
  }
};

export const wasmConv2dFilterGradientConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: wasmConv2dFilterGradient,
};

import { z } from 'zod';

const positiveInt = z.number().int().min(1);
/** One size for both axes, or [height, width]. */
const size2 = z.union([positiveInt.max(256), z.tuple([positiveInt.max(256), positiveInt.max(256)])]);
const activation = z.enum(['relu', 'tanh', 'sigmoid', 'elu', 'linear']);

const conv2d = z.strictObject({
  type: z.literal('conv2d'),
  filters: positiveInt.max(8_192),
  kernelSize: size2,
  strides: size2.default(1),
  /** `same` keeps height and width at stride 1 (McMahan et al.'s MNIST CNN); `valid` shrinks them. */
  padding: z.enum(['same', 'valid']).default('same'),
  activation: activation.default('relu'),
});
const maxPool = z.strictObject({
  type: z.literal('maxPool'),
  poolSize: size2.default(2),
  /** Default: the pool size (non-overlapping windows). */
  strides: size2.optional(),
  padding: z.enum(['same', 'valid']).default('valid'),
});
const avgPool = z.strictObject({ type: z.literal('avgPool'), poolSize: size2.default(2), strides: size2.optional(), padding: z.enum(['same', 'valid']).default('valid') });
/** The mean of each channel over height and width: [h, w, c] to [c] (ResNet's head). */
const globalAvgPool = z.strictObject({ type: z.literal('globalAvgPool') });
const flatten = z.strictObject({ type: z.literal('flatten') });
const dense = z.strictObject({ type: z.literal('dense'), units: positiveInt.max(65_536), activation: activation.default('relu') });
const dropout = z.strictObject({ type: z.literal('dropout'), rate: z.number().min(0).max(0.9) });
/** Mixes the examples of a batch: refused under example-level DP-SGD (see the experiment schema). */
const batchNorm = z.strictObject({ type: z.literal('batchNorm'), momentum: z.number().gt(0).lt(1).default(0.99) });

/** One layer of a layers spec: conv2d, max or average pooling, global average pooling, flatten, dense, dropout or batch norm. */
export type PlainLayerSpec = z.infer<
  typeof conv2d | typeof maxPool | typeof avgPool | typeof globalAvgPool | typeof flatten | typeof dense | typeof dropout | typeof batchNorm
>;
/** A skip connection: the block's output is its input plus its layers' output (He et al. 2016), then `activation`. */
export interface ResidualSpec {
  /** Marks a residual block. */
  readonly type: 'residual';
  /** The block's layers, applied in order. */
  readonly layers: readonly LayerSpec[];
  /** Applied to input + layers' output. */
  readonly activation: z.infer<typeof activation>;
}
/** A layer of a layers spec, or a residual block of them. */
export type LayerSpec = PlainLayerSpec | ResidualSpec;

const residual: z.ZodType<ResidualSpec, unknown> = z.lazy(() =>
  z.strictObject({
    type: z.literal('residual'),
    layers: z.array(layerSpecSchema).min(1).max(64),
    activation: activation.default('relu'),
  }),
);

export const LAYER_TYPES = ['conv2d', 'maxPool', 'avgPool', 'globalAvgPool', 'flatten', 'dense', 'dropout', 'batchNorm', 'residual'] as const;

const plainLayers = { conv2d, maxPool, avgPool, globalAvgPool, flatten, dense, dropout, batchNorm } as const;

/**
 * One layer, discriminated by `type`, so an error names the layer's index and the field (`model.layers.2.filters`).
 * An unknown type is refused naming the types there are.
 */
export const layerSpecSchema: z.ZodType<LayerSpec, unknown> = z.lazy(() =>
  z.custom<unknown>().transform((raw, ctx): LayerSpec => {
    const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
    const schema = type === 'residual' ? residual : typeof type === 'string' && type in plainLayers ? plainLayers[type as keyof typeof plainLayers] : undefined;
    if (schema === undefined) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `unknown layer type ${JSON.stringify(type)}: use one of ${LAYER_TYPES.join(', ')}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      return z.NEVER;
    }
    return parsed.data;
  }),
);

/**
 * A declarative network for images (or any fixed-shape input): the flat input rows are reshaped to `inputShape`
 * ([height, width, channels]), pass through `layers`, and end in a dense output layer of `outputs` units (a sigmoid
 * for 1, a softmax for more), as in the MLP spec.
 */
export const layersModelSpecSchema = z.strictObject({
  type: z.literal('layers'),
  inputShape: z.array(positiveInt.max(65_536)).min(1).max(3),
  layers: z.array(layerSpecSchema).max(256),
  outputs: positiveInt,
  initializer: z.enum(['glorot-uniform']).default('glorot-uniform'),
  /** The flat input width, the product of inputShape; filled in from inputShape when omitted. */
  inputs: positiveInt.optional(),
});
/** A model declared layer by layer (CNNs, residual blocks), as parsed. */
export type LayersModelSpec = z.infer<typeof layersModelSpecSchema>;

/** Every layer of a spec, residual blocks' inner layers included, with the config path that names it. */
export function* walkLayers(layers: readonly LayerSpec[], path: readonly (string | number)[] = ['model', 'layers']): Generator<{ layer: LayerSpec; path: (string | number)[] }> {
  for (const [i, layer] of layers.entries()) {
    yield { layer, path: [...path, i] };
    if (layer.type === 'residual') yield* walkLayers(layer.layers, [...path, i, 'layers']);
  }
}

/** The flat input width a spec takes: the product of its input shape. */
export function inputWidth(spec: LayersModelSpec): number {
  return spec.inputShape.reduce((a, b) => a * b, 1);
}

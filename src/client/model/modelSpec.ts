import { z } from 'zod';
import { inputWidth, layersModelSpecSchema } from './layerSpec.js';
import { modelFileSpecSchema } from './modelFile.js';

/** A declarative model for tabular data: an MLP (no hidden layers = logistic/softmax regression). */
export const mlpSpecSchema = z.object({
  type: z.literal('mlp'),
  hidden: z.array(z.number().int().min(1).max(65_536)).max(32).default([]),
  activation: z.enum(['relu', 'tanh', 'sigmoid', 'elu']).default('relu'),
  dropout: z.number().min(0).max(0.9).default(0),
  /** 1 output with a sigmoid for binary labels; k > 1 outputs with a softmax for k classes. */
  outputs: z.number().int().min(1).default(1),
  /**
   * Kernel initialization: Glorot uniform (Keras' default) or PyTorch's nn.Linear default, uniform in
   * +-1/sqrt(fan_in) for kernel and bias, which reproduces PyTorch baselines such as FLamby's.
   */
  initializer: z.enum(['glorot-uniform', 'pytorch']).default('glorot-uniform'),
  /** Number of input features; filled in from the data when omitted. */
  inputs: z.number().int().min(1).optional(),
});
export type MlpSpec = z.infer<typeof mlpSpecSchema>;

/** What `model:` in a config takes: an MLP for tables, a declarative layers spec (CNNs, residual blocks), or a tfjs model.json. */
export const modelSpecSchema = z.discriminatedUnion('type', [mlpSpecSchema, layersModelSpecSchema, modelFileSpecSchema]);
/** What `model:` takes, as parsed: an MLP, a layers spec, or a tfjs model.json file. */
export type ModelSpec = z.infer<typeof modelSpecSchema>;


/** The flat input width a spec names: `inputs`, or for a layers spec the product of its input shape; undefined if neither. */
export function specInputs(spec: ModelSpec): number | undefined {
  return spec.inputs ?? (spec.type === 'layers' ? inputWidth(spec) : undefined);
}

/** The number of outputs (1: sigmoid, k: softmax over k classes); a model file's is known once the file is read. */
export function specOutputs(spec: ModelSpec): number {
  if (spec.outputs === undefined) throw new Error(`model file ${spec.type === 'file' ? spec.path : ''} has not been read yet (readModelFile gives its outputs)`);
  return spec.outputs;
}

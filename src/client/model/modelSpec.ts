import { z } from 'zod';

/** A declarative model for tabular data: an MLP (no hidden layers = logistic/softmax regression). */
export const modelSpecSchema = z.object({
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
export type ModelSpec = z.infer<typeof modelSpecSchema>;

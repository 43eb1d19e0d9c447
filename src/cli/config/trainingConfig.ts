import { z } from 'zod';

/** A count of at least 1 (epochs, batch size, clients, rounds). */
export const positiveInt = z.number().int().min(1);

/** How each client trains in a round: local epochs (or steps), batch size, learning rate and optimizer. */
export const trainingSchema = z.strictObject({
  epochs: positiveInt.default(1),
  batchSize: positiveInt.default(32),
  learningRate: z.number().positive().default(0.01),
  /** Optimizer steps (batches) per round instead of whole epochs, as FLamby counts local updates. */
  maxSteps: positiveInt.optional(),
  optimizer: z.enum(['sgd', 'adam']).default('adam'),
});

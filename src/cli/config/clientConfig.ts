import { z } from 'zod';
import { BACKEND_PREFERENCES } from '../../client/backend/index.js';
import { csvDataConfigSchema } from '../../client/data/index.js';
import { modelSpecSchema } from '../../client/model/modelSpec.js';

/** What `cohort client` runs: one hospital's node, its local data, and the model it trains. */
export const clientConfigSchema = z.strictObject({
  name: z.string().min(1).max(128),
  /** The coordinator's URL, e.g. http://coordinator.example.org:8080. */
  coordinator: z.url(),
  backend: z.enum(BACKEND_PREFERENCES).default('auto'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  seed: z.number().int().default(42),
  /** Must describe the same architecture as the coordinator's experiment (checked at hello). */
  model: modelSpecSchema,
  optimizer: z.enum(['sgd', 'adam']).default('adam'),
  data: csvDataConfigSchema,
});

export type ClientConfig = z.infer<typeof clientConfigSchema>;

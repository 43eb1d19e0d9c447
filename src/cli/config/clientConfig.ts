import { z } from 'zod';
import { BACKEND_PREFERENCES } from '../../client/backend/index.js';
import { siteDataConfigSchema } from '../../client/data/siteData.js';
import { modelSpecSchema } from '../../client/model/modelSpec.js';
import { auditConfigSchema, clientSecurityConfigSchema, clientTlsConfigSchema, identityConfigSchema } from './securityConfig.js';

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
  /** A CSV table, or `type: images` (PNG, JPEG, DICOM: a folder per class or a manifest). */
  data: siteDataConfigSchema,
  /** This node's identity key file (`cohort keygen`); the coordinator's access list names its public key. */
  identity: identityConfigSchema.optional(),
  /** The coordinator's public key (base64), pinned: the node refuses any other coordinator. */
  coordinatorKey: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 Ed25519 public key (44 characters)')
    .optional(),
  tls: clientTlsConfigSchema.optional(),
  /** What this node accepts from the coordinator: required secure mode, DP floor, feature statistics, roster. */
  security: clientSecurityConfigSchema.optional(),
  /** Where this node writes the final global model (tfjs layers format) when the run ends; default `<name>-model/` beside the config. */
  finalModel: z.strictObject({ out: z.string().min(1) }).optional(),
  /** Worker threads for CKKS encryption and decryption (default: one per core but one, 1 to 8; 0: the node's own thread). */
  ckksThreads: z.number().int().min(0).max(64).optional(),
  /** What this node sent, signed and hash-chained; default `<name>.audit.jsonl` beside the config when identity.key is set. */
  audit: auditConfigSchema.optional(),
});

export type ClientConfig = z.infer<typeof clientConfigSchema>;

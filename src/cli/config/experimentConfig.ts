import { dataSchemaConfigSchema } from './dataSchemaConfig.js';
import { encodedWidth } from '../../protocol/dataSchema.js';
import { z } from 'zod';
import { BACKEND_PREFERENCES } from '../../client/backend/index.js';
import { csvDataConfigSchema, publicScalingSchema } from '../../client/data/index.js';
import { modelSpecSchema } from '../../client/model/modelSpec.js';
import { byzantineSpecSchema } from '../../client/byzantine/index.js';
import { partitionClientCount, partitionSpecSchema } from '../../client/partition/index.js';
import { checkModelConfig } from './modelConfig.js';
import { checkScaffoldConfig } from './scaffoldConfig.js';
import { accessConfigSchema, auditConfigSchema, identityConfigSchema, observabilityConfigSchema, serverTlsConfigSchema } from './securityConfig.js';
import { coordinatorSchema } from './coordinatorConfig.js';
import { strategySchema } from './strategyConfig.js';
import { positiveInt, trainingSchema } from './trainingConfig.js';

export { coordinatorSchema } from './coordinatorConfig.js';
export { STRATEGY_NAMES, strategySchema } from './strategyConfig.js';
export { trainingSchema } from './trainingConfig.js';


/** Data options shared by every simulated client (each client's `data` overrides them). */
const partialDataSchema = z.record(z.string(), z.unknown());

export const simulatedClientSchema = z.strictObject({
  name: z.string().min(1).max(128),
  data: partialDataSchema,
});

/** Strategies whose step is linear in the mean update, so CKKS clients can apply it (capabilities.linearStep). */
const CKKS_STRATEGIES: ReadonlySet<string> = new Set(['fedavg', 'fedprox', 'fedavgm']);

/**
 * One experiment: what `cohort coordinator` runs, and, with `clients`, what `cohort simulate` runs on one
 * machine (a coordinator and one client per entry, over real sockets on loopback). Parsing checks the fields and
 * their combinations (a strategy a secure mode cannot run, DP settings a model refuses) and fills the defaults.
 */
export const experimentConfigSchema = z
  .strictObject({
    name: z.string().min(1).default('experiment'),
    seed: z.number().int().default(42),
    rounds: positiveInt,
    backend: z.enum(BACKEND_PREFERENCES).default('auto'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
    model: modelSpecSchema,
    training: trainingSchema.default(() => trainingSchema.parse({})),
    strategy: strategySchema.default(() => strategySchema.parse({})),
    coordinator: coordinatorSchema.default(() => coordinatorSchema.parse({})),
    /**
     * How client features are scaled: one mean and std computed across the federation before round 1
     * (default), each client's own training statistics (FLamby's per-centre z-score), from public ranges
     * (`public`, with `publicScaling`: nothing about any site's rows is computed or sent), or not at all.
     * In an experiment this replaces the data configs' own `standardize` flag. Under privacy or dpSgd
     * `federated` is refused unless coordinator.acceptRisks lists feature-moments (the moments are not private).
     */
    standardization: z.enum(['federated', 'local', 'public', 'none']).default('federated'),
    /** With standardization: public, each feature's public range or mean and scale, and what an outlier does. */
    publicScaling: publicScalingSchema.optional(),
    /**
     * `ckks`: updates are summed under homomorphic encryption; the coordinator never sees one, nor the model.
     * `secaggplus`: updates are quantized and masked in pairs (SecAgg+); the coordinator learns only their mean.
     */
    secureAggregation: z.enum(['plain', 'ckks', 'secaggplus']).default('plain'),
    /** SecAgg+'s graph and quantization (with secureAggregation: secaggplus; defaults in src/modes/secaggplus/settings.ts). */
    secaggplus: z
      .strictObject({
        neighbours: z.number().int().min(2).max(254).optional(),
        threshold: z.number().int().min(2).optional(),
        bits: z.number().int().min(8).max(32).optional(),
        clippingRange: z.number().positive().optional(),
      })
      .optional(),
    /**
     * Update compression (plain aggregation only; refused under ckks and secaggplus, with the reason): `{ method: int8 }`
     * (8-bit stochastic rounding, about 3.97x fewer upload bytes; `deflate: true` deflates the levels, losslessly, to about
     * 6x on MNIST) or `{ method: topk, fraction: 0.1 }` (the largest
     * 10 % of values, 5x fewer), each with error feedback on the clients. Downloads stay float32.
     */
    compression: z
      .discriminatedUnion('method', [
        z.strictObject({ method: z.literal('int8'), deflate: z.boolean().optional() }),
        z.strictObject({ method: z.literal('topk'), fraction: z.number().positive().max(0.5, 'fraction must be at most 0.5: above it a top-k upload (8 bytes a kept value) outweighs the dense float32 one') }),
      ])
      .optional(),
    dataDefaults: partialDataSchema.default(() => ({})),
    /**
     * The study's data schema: feature columns in order, categorical levels, the label. Every site is checked
     * against it at connect time and refused on a difference, before any training. Unset, the first site to
     * join sets it (the coordinator prints it, to pin here).
     */
    dataSchema: dataSchemaConfigSchema.optional(),
    /** coordinator: its identity key file (clients pin its public key). Default: a fresh key per run. */
    identity: identityConfigSchema.optional(),
    /** coordinator: who may connect (required for `cohort coordinator`). */
    access: accessConfigSchema.optional(),
    tls: serverTlsConfigSchema.optional(),
    /** coordinator: the audit log; default `<name>.audit.jsonl` beside the config when identity.key is set. */
    audit: auditConfigSchema.optional(),
    /** The dashboard and metrics: who may read them (an observer token by default) and where. */
    observability: observabilityConfigSchema.optional(),
    /**
     * Client-level differential privacy (DP-FedAvg): updates clipped to L2 norm `clipNorm`, Gaussian noise
     * of std noiseMultiplier x clipNorm on their sum, epsilon accounted every round (RDP), and the run stops
     * before `targetEpsilon` would be exceeded. Example counts no longer weight the mean (sensitivity).
     */
    privacy: z
      .strictObject({
        /** A fixed C, or adaptive clipping (Andrew et al. 2021): C follows the targetQuantile of the update norms. */
        clipNorm: z.union([
          z.number().positive(),
          z.strictObject({
            initialClipNorm: z.number().positive(),
            targetQuantile: z.number().min(0).max(1).default(0.5),
            learningRate: z.number().positive().default(0.2),
            countNoiseStd: z.number().min(0),
          }),
        ]),
        noiseMultiplier: z.number().min(0),
        delta: z.number().gt(0).lt(1),
        targetEpsilon: z.number().positive().optional(),
        conversion: z.enum(['improved', 'classic']).default('improved'),
        /** Secure modes: colluding clients (each knowing its own noise share) the guarantee holds against. */
        colluders: z.number().int().min(0).default(1),
      })
      .optional(),
    /** simulate: split the one dataset `dataDefaults` names over virtual clients instead of listing `clients`. */
    partition: partitionSpecSchema.optional(),
    /** simulate: make some clients Byzantine (scaled, sign-flipped or random updates) to test robust strategies. */
    byzantine: byzantineSpecSchema.optional(),
    /**
     * simulate: injected dropouts, a fresh seeded draw each round: a fraction of the clients leave after the key
     * exchange and before uploading, another just after their upload was accepted (they reconnect for the next).
     */
    dropouts: z
      .strictObject({
        beforeUpload: z.number().min(0).max(1).default(0),
        afterUpload: z.number().min(0).max(1).default(0),
        /** The rounds with dropouts; default every round. */
        rounds: z.array(z.number().int().min(1)).min(1).optional(),
      })
      .refine((d) => d.beforeUpload + d.afterUpload <= 1, { message: 'dropouts.beforeUpload + dropouts.afterUpload must not exceed 1' })
      .optional(),
    /** simulate: worker threads hosting the virtual clients, one tfjs each; `auto` = one per core (at most one per client), 0 or 1 = all in the coordinator's thread. */
    simulation: z.strictObject({ workers: z.union([z.literal('auto'), z.number().int().min(0)]).default('auto') }).default(() => ({ workers: 'auto' as const })),
    /**
     * Example-level DP-SGD at every simulated client (each hospital's record-level guarantee, accounted by its
     * own trainer): per-example clipping to clipNorm, and either a noise multiplier or the epsilon the whole run
     * may spend (the multiplier is then computed per client from q = batchSize / n and the planned steps).
     */
    dpSgd: z
      .strictObject({
        clipNorm: z.number().positive(),
        delta: z.number().gt(0).lt(1),
        noiseMultiplier: z.number().positive().optional(),
        epsilon: z.number().positive().optional(),
        conversion: z.enum(['improved', 'classic']).default('improved'),
      })
      .refine((d) => (d.noiseMultiplier === undefined) !== (d.epsilon === undefined), { message: 'give exactly one of noiseMultiplier and epsilon' })
      .optional(),
    /** The run store (SQLite): `cohort coordinator` always keeps one (default ./cohort.db); simulate only when set. */
    store: z.strictObject({ path: z.string().min(1) }).optional(),
    clients: z.array(simulatedClientSchema).optional(),
    /** simulate: also train one model centrally on the pooled training rows and compare. */
    centralBaseline: z
      .union([z.boolean(), z.strictObject({ epochs: positiveInt })])
      .default(true),
  })
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.clients?.forEach((client, i) => {
      if (names.has(client.name)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'name'], message: `client name "${client.name}" is used twice` });
      names.add(client.name);
    });
    if (c.secureAggregation === 'ckks' && !CKKS_STRATEGIES.has(c.strategy.name)) {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'name'], message: `${c.strategy.name} cannot run with secureAggregation: ckks (the coordinator only adds ciphertexts); use ${[...CKKS_STRATEGIES].join(', ')}, or plain aggregation` });
    }
    if (c.access?.mode === 'virtual-clients' && !c.partition) {
      ctx.addIssue({ code: 'custom', path: ['access', 'mode'], message: 'virtual-clients admits the virtual clients of a partition: add partition: { type: iid, clients: <n> } (or another partitioner)' });
    }
    if (c.partition && c.clients) ctx.addIssue({ code: 'custom', path: ['partition'], message: 'give either clients (one data file each) or partition (one file split over virtual clients), not both' });
    const clientCount = c.partition ? partitionClientCount(c.partition) : c.clients?.length;
    const minAvailable = c.strategy.minAvailableClients ?? c.strategy.minFitClients;
    if (minAvailable < c.strategy.minFitClients) {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'minAvailableClients'], message: `must be at least minFitClients (${c.strategy.minFitClients})` });
    }
    if (clientCount !== undefined && clientCount < minAvailable) {
      ctx.addIssue({
        code: 'custom',
        path: [c.partition ? 'partition' : 'clients'],
        message: `${clientCount} clients can never satisfy minAvailableClients/minFitClients = ${minAvailable}`,
      });
    }
    checkScaffoldConfig(c, clientCount, ctx);
    if (c.dataSchema && c.model.inputs !== undefined && encodedWidth(c.dataSchema) !== c.model.inputs) {
      ctx.addIssue({ code: 'custom', path: ['dataSchema'], message: `gives ${encodedWidth(c.dataSchema)} model inputs (numeric columns plus one-hot levels), but model.inputs is ${c.model.inputs}` });
    }
    checkModelConfig(c, ctx);
    if ((c.privacy || c.dpSgd) && c.standardization === 'federated' && !c.coordinator.acceptRisks.includes('feature-moments')) {
      ctx.addIssue({ code: 'custom', path: ['standardization'], message: FEDERATED_STANDARDIZATION_UNDER_DP });
    }
    if (c.standardization === 'public' && !c.publicScaling) {
      ctx.addIssue({ code: 'custom', path: ['publicScaling'], message: 'standardization: public needs publicScaling: { features: { <feature>: { min, max } or { mean, scale }, ... } }' });
    }
    if (c.publicScaling && c.standardization !== 'public') {
      ctx.addIssue({ code: 'custom', path: ['publicScaling'], message: `publicScaling is used only with standardization: public (it is ${c.standardization})` });
    }
    const dataScaling = [['dataDefaults'], ...(c.clients ?? []).map((_, i) => ['clients', i, 'data'])].filter((path) => {
      const data = path.length === 1 ? c.dataDefaults : c.clients![path[1] as number]!.data;
      return data.publicScaling !== undefined;
    });
    for (const path of dataScaling) {
      ctx.addIssue({ code: 'custom', path: [...path, 'publicScaling'], message: 'in an experiment, give publicScaling at the top level with standardization: public (one scaling for every client)' });
    }
  });

/**
 * Federated standardization under DP, refused: each site's exact feature means and mean squares, and its row count,
 * reach the coordinator in the clear, outside every guarantee (two runs that differ by one patient give that
 * patient's features back by differencing).
 */
const FEDERATED_STANDARDIZATION_UNDER_DP =
  "federated (the default) sends each site's exact feature means, mean squares and row count to the coordinator outside the differential-privacy guarantee " +
  '(differencing two runs recovers one patient\'s features): with privacy or dpSgd set standardization: public with publicScaling (each feature\'s range from public sources; nothing leaves), ' +
  'local or none, or accept the leak with coordinator.acceptRisks: [feature-moments]';

/** An experiment as parsed: every default filled in. */
export type ExperimentConfig = z.infer<typeof experimentConfigSchema>;
/** An experiment as written (YAML or code), before defaults. */
export type ExperimentConfigInput = z.input<typeof experimentConfigSchema>;

/** A simulated client's data config: the shared defaults overlaid with its own entries, validated. */
export function clientDataConfig(config: ExperimentConfig, clientIndex: number) {
  const client = config.clients?.[clientIndex];
  if (!client) throw new Error(`no client ${clientIndex}`);
  return csvDataConfigSchema.parse({ ...config.dataDefaults, ...client.data });
}

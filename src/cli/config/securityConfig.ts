import { z } from 'zod';
import { sha256HexSchema } from '../../client/model/modelFile.js';

/** A node's Ed25519 identity: the secret key file `cohort keygen` wrote (mode 0600). */
export const identityConfigSchema = z.strictObject({ key: z.string().min(1) });

const base64Key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 Ed25519 public key (44 characters, as `cohort keygen` prints)');

/** Who may connect to a coordinator: named public keys with roles, or (explicitly) anyone. */
export const accessConfigSchema = z.union([
  z.strictObject({
    mode: z.literal('allowlist').default('allowlist'),
    peers: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(128),
          publicKey: base64Key,
          role: z.enum(['client', 'observer', 'admin']).default('client'),
        }),
      )
      .min(1, 'list at least one peer, or set mode: open'),
  }),
  z.strictObject({ mode: z.literal('open') }),
  /**
   * The partition's virtual clients, hosted by `cohort host` processes: each client's key is derived from this
   * `cohort keygen` file (which the coordinator and every host read) and the experiment's fingerprint.
   */
  z.strictObject({ mode: z.literal('virtual-clients'), key: z.string().min(1) }),
]);

/** HTTPS/WSS for the coordinator: PEM files; `ca` with `requestClientCert` makes it mutual TLS. */
export const serverTlsConfigSchema = z.strictObject({
  cert: z.string().min(1),
  key: z.string().min(1),
  ca: z.string().min(1).optional(),
  requestClientCert: z.boolean().default(false),
});

/** For an https:// coordinator: the CA to trust, and this node's certificate for mutual TLS. */
export const clientTlsConfigSchema = z.strictObject({
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
});

/**
 * The signed, hash-chained log of security-relevant events (see `cohort audit verify`). `failClosed`: stop
 * (the coordinator halts the run, a client leaves it) when an entry cannot be written, rather than go on
 * unrecorded; the default logs the failure and goes on.
 */
export const auditConfigSchema = z.strictObject({ log: z.string().min(1).optional(), failClosed: z.boolean().default(false) });

/**
 * What a hospital's node accepts, whatever the coordinator asks (see the README's threat model): the secure
 * mode it requires, the DP floor, whether feature statistics may leave, and the study's roster.
 */
export const clientSecurityConfigSchema = z.strictObject({
  mode: z.enum(['plain', 'ckks', 'secaggplus']).optional(),
  minNoiseMultiplier: z.number().min(0).optional(),
  maxClipNorm: z.number().positive().optional(),
  featureStatistics: z.boolean().optional(),
  /** The study's participants and their identity keys (as `cohort keygen` printed them). */
  roster: z
    .array(z.strictObject({ name: z.string().min(1).max(128), publicKey: base64Key }))
    .min(1)
    .optional(),
  acceptRisks: z.array(z.enum(['plain-http'])).default([]),
  /** The SHA-256 of the model.json this hospital agreed to train (`sha256sum model.json`): another model is refused. */
  modelSha256: sha256HexSchema.optional(),
  /** This hospital's floors on SecAgg+ rounds: the threshold t, the neighbours k, the cohort a sum covers, and the ring's bits b. */
  secaggplus: z
    .strictObject({
      minThreshold: z.number().int().min(2).optional(),
      minNeighbours: z.number().int().min(2).optional(),
      minCohort: z.number().int().min(3).optional(),
      minBits: z.number().int().min(8).max(32).optional(),
    })
    .optional(),
});

/**
 * Who may read the dashboard and metrics, and where they are served. Default: the coordinator's port, behind
 * a fresh observer token per run (printed in the dashboard's link). `host`/`port`: serve them on another
 * address instead (plain HTTP: a loopback or operations network). `tokenFile`: a token that outlives the run
 * (at least 16 characters). `anonymous: true`: no credential at all, for a network where every reader may see
 * every site's figures.
 */
export const observabilityConfigSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65_535).optional(),
  tokenFile: z.string().min(1).optional(),
  anonymous: z.boolean().default(false),
});

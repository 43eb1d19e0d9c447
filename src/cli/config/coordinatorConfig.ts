import { z } from 'zod';

export const coordinatorSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(8080),
  roundTimeoutSeconds: z.number().positive().default(120),
  /** An upload whose bytes stop for this long (socket still open) is aborted and its task fails: it frees its aggregation slot. */
  streamIdleTimeoutSeconds: z.number().positive().default(30),
  /** An upload bringing fewer bytes a second than this over a streamIdleTimeoutSeconds window is aborted the same way (0: off). */
  minStreamBytesPerSecond: z.number().int().min(0).default(4_096),
  /**
   * The most training examples one client may announce at hello (its weight in an example-weighted mean is capped
   * by it: a result may not claim more than its client announced). Default: no cap beyond the protocol's 1e9.
   */
  maxExamplesPerClient: z.number().int().min(1).optional(),
  waitForClientsSeconds: z.number().positive().default(300),
  /**
   * Connection limits (defaults in CoordinatorOptions: 120 a minute and 128 open per address, 64 handshakes at
   * once). Under access mode virtual-clients every limit defaults to cover the whole partition, since a host
   * connects thousands of clients from one address.
   */
  maxConnectionsPerMinute: z.number().int().min(1).optional(),
  maxConnectionsPerAddress: z.number().int().min(1).optional(),
  maxPendingHandshakes: z.number().int().min(1).optional(),
  maxRoundRetries: z.number().int().min(0).default(2),
  /**
   * Where the coordinator stages the updates of a big model (16M parameters or more) during a round, on disk rather
   * than in its memory (relative to this file; default: the OS temp dir). The coordinator checks it at start and
   * says how much it may hold, and whether it is a tmpfs (memory, not disk).
   */
  stagingDir: z.string().min(1).optional(),
  /**
   * Risks accepted: for secureAggregation: ckks on a non-loopback host, open access and no TLS; under privacy or
   * dpSgd, `feature-moments` (federated standardization's per-site moments in the clear). Refused otherwise.
   */
  acceptRisks: z.array(z.enum(['open-access', 'plain-http', 'feature-moments'])).default([]),
});

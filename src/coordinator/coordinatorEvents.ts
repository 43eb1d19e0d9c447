import type { DataSchema } from '../protocol/dataSchema.js';
import type { RoundRecord } from './roundRecord.js';
import type { ClientSummary } from './strategy.js';

/**
 * What a running coordinator reports, for stores, metrics and dashboards. Listeners observe; they cannot
 * change a round (a throwing listener is logged and ignored).
 */
export interface CoordinatorEventMap {
  /** A client authenticated and joined. */
  'client-joined': [client: ClientSummary];
  /** A client's session ended, and why. */
  'client-left': [client: ClientSummary, reason: string];
  /** A round's fit phase began (or began again, at `attempt`), with the clients selected. */
  'round-started': [info: { round: number; attempt: number; selected: readonly string[] }];
  /** An attempt at a round failed (too few results, timeouts); it is retried or the run fails. */
  'round-failed': [info: { round: number; attempt: number; message: string }];
  /** A round completed: everything it left behind. */
  'round-completed': [record: RoundRecord];
  /** A connection or message was refused, and why. */
  'refused': [info: { problem: string; client?: string }];
  /** A connection failed below socket.io on a client's TLS set-up mistake (tlsMistakes.ts): who, and the fix. */
  'tls-mistake': [info: { address: string; problem: string }];
  /** A site's data schema differs from the study's: it was refused before any training. */
  'schema-refused': [info: { client: string; reason: string }];
  /** No schema was pinned: this site's, the first announced, is now the study's for the run. */
  'schema-adopted': [info: { client: string; schema: DataSchema }];
  /** Payload bytes sent or received, chunk by chunk, with the client's name once it authenticated. */
  'traffic': [info: { direction: 'in' | 'out'; bytes: number; client?: string }];
  /** The run ended after `rounds` rounds. */
  'run-completed': [info: { runId: string; rounds: number }];
}

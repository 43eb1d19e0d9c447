import type { DataSchema } from '../protocol/dataSchema.js';
import type { RoundRecord } from './roundRecord.js';
import type { ClientSummary } from './strategy.js';

/**
 * What a running coordinator reports, for stores, metrics and dashboards. Listeners observe; they cannot
 * change a round (a throwing listener is logged and ignored).
 */
export interface CoordinatorEventMap {
  'client-joined': [client: ClientSummary];
  'client-left': [client: ClientSummary, reason: string];
  'round-started': [info: { round: number; attempt: number; selected: readonly string[] }];
  'round-failed': [info: { round: number; attempt: number; message: string }];
  'round-completed': [record: RoundRecord];
  'refused': [info: { problem: string; client?: string }];
  /** A connection failed below socket.io on a client's TLS set-up mistake (tlsMistakes.ts): who, and the fix. */
  'tls-mistake': [info: { address: string; problem: string }];
  /** A site's data schema differs from the study's: it was refused before any training. */
  'schema-refused': [info: { client: string; reason: string }];
  /** No schema was pinned: this site's, the first announced, is now the study's for the run. */
  'schema-adopted': [info: { client: string; schema: DataSchema }];
  'traffic': [info: { direction: 'in' | 'out'; bytes: number; client?: string }];
  'run-completed': [info: { runId: string; rounds: number }];
}

import type { Logger } from 'pino';
import type { CoordinatorMode } from '../../modes/mode.js';
import type { AuditTrail } from '../auditTrail.js';
import type { ClientRegistry } from '../clientRegistry.js';
import type { CoordinatorEventMap } from '../coordinatorEvents.js';
import type { CoordinatorOptions } from '../coordinatorOptions.js';
import type { ClientSummary } from '../strategy.js';

/** What every phase of a run reads: the options, the secure mode, the connected clients and the plumbing. */
export interface RunContext {
  readonly runId: string;
  readonly options: CoordinatorOptions;
  readonly mode: CoordinatorMode;
  readonly registry: ClientRegistry;
  readonly log: Logger;
  readonly audit: AuditTrail;
  /** Whether an audit log is kept (hashing a large model costs about 1 s per GB: only when something keeps it). */
  readonly auditing: boolean;
  readonly report: <K extends keyof CoordinatorEventMap>(event: K, ...args: CoordinatorEventMap[K]) => void;
  /** The clients that may take tasks now: connected, standardized if the run standardizes, ready in the mode. */
  readonly eligible: () => Promise<ClientSummary[]>;
  readonly roundTimeoutMs: number;
  readonly waitMs: number;
}

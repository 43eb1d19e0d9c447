import type { Logger } from 'pino';
import type { CoordinatorMode } from '../modes/mode.js';
import type { Weights } from '../protocol/tensors.js';
import type { AuditTrail } from './auditTrail.js';
import type { CoordinatorOptions } from './coordinatorOptions.js';
import { PrivacyLedger, type PrivacySettings } from './privacyLedger.js';

/** Where a run starts: the first round, the standardization it carries, and its privacy ledger. */
export interface StartingPoint {
  readonly firstRound: number;
  readonly standardization: Weights | undefined;
  readonly ledger: PrivacyLedger | undefined;
}

interface StartContext {
  readonly runId: string;
  readonly options: CoordinatorOptions;
  /** The ledger's settings (the run's privacy, with who adds the noise), when the run has client-level DP. */
  readonly privacy?: PrivacySettings;
  readonly mode: CoordinatorMode;
  readonly log: Logger;
  readonly audit: AuditTrail;
}

/**
 * Round 1 from the initial state (recording the new run), or, with `resume`, after the store's last
 * checkpoint: the mode adopts its global state, and the strategy state, privacy ledger and standardization
 * come back with it.
 */
export function startingPoint(run: StartContext): StartingPoint {
  const { options, mode } = run;
  const privacy = run.privacy;
  const fresh = privacy ? new PrivacyLedger(privacy) : undefined;
  const store = options.store;
  if (store && options.resume) {
    const standardization = store.standardization(run.runId);
    const checkpoint = mode.restore(store);
    if (!checkpoint) return { firstRound: 1, standardization, ledger: fresh };
    const saved = (checkpoint.strategyState ?? {}) as { strategy?: unknown; privacy?: unknown };
    options.strategy.restore?.(saved.strategy);
    const ledger = privacy ? PrivacyLedger.resume(privacy, saved.privacy) : undefined;
    run.log.info({ round: checkpoint.round, state: checkpoint.sha256 }, 'resuming from the last completed round');
    run.audit.append('run-resumed', { run: run.runId, afterRound: checkpoint.round, model: checkpoint.sha256 });
    return { firstRound: checkpoint.round + 1, standardization, ledger };
  }
  store?.createRun({
    id: run.runId,
    name: options.experimentName ?? 'experiment',
    configHash: options.configHash ?? '',
    manifest: options.manifest ?? {},
    roundsPlanned: options.rounds,
  });
  return { firstRound: 1, standardization: undefined, ledger: fresh };
}

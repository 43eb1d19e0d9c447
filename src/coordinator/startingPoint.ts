import type { Logger } from 'pino';
import type { Weights } from '../protocol/tensors.js';
import { describeLayout } from '../protocol/encryptedLayout.js';
import type { AuditTrail } from './auditTrail.js';
import type { EncryptedGlobal, EncryptedRoundPlan } from './ckksRounds.js';
import { RunError, type CoordinatorOptions } from './coordinatorOptions.js';
import { PrivacyLedger } from './privacyLedger.js';
import type { RunStore } from './store/runStore.js';

/** Where a run starts: the model (or, under CKKS, the encrypted sum), the first round, and what it carries. */
export interface StartingPoint {
  readonly global: Weights;
  readonly encrypted?: EncryptedGlobal;
  readonly firstRound: number;
  readonly standardization: Weights | undefined;
  readonly ledger: PrivacyLedger | undefined;
}

interface RunContext {
  readonly runId: string;
  readonly options: CoordinatorOptions;
  readonly encryptedPlan: EncryptedRoundPlan | undefined;
  readonly log: Logger;
  readonly audit: AuditTrail;
}

/**
 * Round 1 from the initial weights (recording the new run), or, with `resume`, after the store's last
 * checkpoint: its model, strategy state, privacy ledger and standardization.
 */
export function startingPoint(run: RunContext): StartingPoint {
  const { options } = run;
  const privacy = options.privacy;
  const fresh = privacy ? new PrivacyLedger(privacy) : undefined;
  const { store, strategy } = options;
  if (store && options.resume) {
    const standardization = store.standardization(run.runId);
    if (run.encryptedPlan) return encryptedStartingPoint(run, store, standardization, fresh);
    const checkpoint = store.checkpoint(run.runId);
    if (!checkpoint) return { global: strategy.initialize(options.initialWeights), firstRound: 1, standardization, ledger: fresh };
    const saved = (checkpoint.strategyState ?? {}) as { strategy?: unknown; privacy?: unknown };
    strategy.restore?.(saved.strategy);
    const ledger = privacy ? PrivacyLedger.resume(privacy, saved.privacy) : undefined;
    run.log.info({ round: checkpoint.round, model: checkpoint.modelSha256 }, 'resuming from the last completed round');
    run.audit.append('run-resumed', { run: run.runId, afterRound: checkpoint.round, model: checkpoint.modelSha256 });
    return { global: checkpoint.weights, firstRound: checkpoint.round + 1, standardization, ledger };
  }
  store?.createRun({
    id: run.runId,
    name: options.experimentName ?? 'experiment',
    configHash: options.configHash ?? '',
    manifest: options.manifest ?? {},
    roundsPlanned: options.rounds,
  });
  return { global: strategy.initialize(options.initialWeights), firstRound: 1, standardization: undefined, ledger: fresh };
}

/**
 * Resuming a CKKS run: the checkpoint is the last encrypted sum, which only the clients still holding the
 * run's key can decrypt (keys live in client memory; no new key is dealt for a resumed state).
 */
function encryptedStartingPoint(run: RunContext, store: RunStore, standardization: Weights | undefined, fresh: PrivacyLedger | undefined): StartingPoint {
  const { options } = run;
  const plan = run.encryptedPlan!;
  const checkpoint = store.encryptedCheckpoint(run.runId);
  if (!checkpoint) return { global: options.strategy.initialize(options.initialWeights), firstRound: 1, standardization, ledger: fresh };
  const saved = checkpoint.layout;
  if (saved.parameters !== plan.layout.parameters || saved.momentum !== plan.layout.momentum || saved.logClipNorm !== plan.layout.logClipNorm) {
    throw new RunError(`run ${run.runId} was checkpointed as ${describeLayout(saved)}, but this configuration packs ${describeLayout(plan.layout)}: resume it with its own strategy and privacy settings`);
  }
  const state = (checkpoint.strategyState ?? {}) as { strategy?: unknown; privacy?: unknown };
  const ledger = options.privacy ? PrivacyLedger.resume(options.privacy, state.privacy) : undefined;
  run.log.info({ round: checkpoint.round, sum: checkpoint.sha256 }, 'resuming an encrypted run from the last completed round');
  run.audit.append('run-resumed', { run: run.runId, afterRound: checkpoint.round, model: checkpoint.sha256 });
  return { global: options.initialWeights, encrypted: checkpoint, firstRound: checkpoint.round + 1, standardization, ledger };
}

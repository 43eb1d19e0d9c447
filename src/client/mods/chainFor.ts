import type { ClientMode } from '../../modes/clientMode.js';
import { readCompressionTask } from '../../protocol/compression.js';
import { ErrorFeedback } from '../compression/errorFeedback.js';
import { isScaffoldTask, ScaffoldMember } from '../scaffoldMember.js';
import type { FitConfig } from '../trainer.js';
import type { LocalPrivacy } from '../updatePrivacy.js';
import { controlVariatesStep } from './controlVariatesStep.js';
import { compressionStep } from './compressionStep.js';
import { buildFitChain, type FitChain, type FitStep } from './fitChain.js';
import { localDpStep } from './localDpStep.js';
import { trainAndSubtract } from './trainStep.js';

/** What a node brings to its fit chains: its own local DP, reported on every release. */
export interface FitChainParts {
  readonly localPrivacy?: LocalPrivacy;
  readonly onLocalRelease: (round: number, epsilon: number) => void;
}

/**
 * Builds the chain for each fit task, outermost first: compression (when the task asks for it; error feedback
 * keeps its residual across rounds), local DP (this node's own), the mode's own steps
 * (plaintext clipping to the task's C), then control variates (SCAFFOLD, whose c_i this keeps across rounds)
 * or plain training innermost; the mode protects what comes out. Conflicts between the steps, and with a mode
 * that hides updates, are refused when the chain is built, naming both.
 */
export class FitChains {
  private readonly scaffold = new ScaffoldMember();
  private readonly feedback = new ErrorFeedback();

  constructor(private readonly parts: FitChainParts) {}

  for(config: FitConfig, mode: ClientMode, runId: string): FitChain {
    const steps: FitStep[] = [];
    const compression = readCompressionTask(config.extra);
    if (compression) steps.push(compressionStep(this.feedback, compression, runId));
    if (this.parts.localPrivacy) steps.push(localDpStep(this.parts.localPrivacy, this.parts.onLocalRelease));
    steps.push(...mode.steps(config));
    if (isScaffoldTask(config)) steps.push(controlVariatesStep(this.scaffold, runId));
    return buildFitChain(steps, trainAndSubtract, mode.protectsUpdates ? [`secure aggregation ${mode.name}`] : []);
  }
}

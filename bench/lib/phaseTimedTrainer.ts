import type { EvaluateConfig, EvaluateOutcome, FitConfig, FitOutcome, Trainer, TrainerDescription } from '../../src/client/trainer.js';
import type { Weights } from '../../src/protocol/tensors.js';
import { epochMs } from './constantStepTrainer.js';

/** One fit round as a client lived it: epoch-ms marks and the CPU its trainer spent. */
export interface RoundPhases {
  readonly round: number;
  /** setWeights called: the download was received, verified and decoded. */
  readonly weightsSet: number;
  readonly fitStart: number;
  readonly fitEnd: number;
  /** getWeights returned: what follows (delta, encode, hash, sign, send) is the upload. */
  readonly weightsRead: number;
  /** CPU milliseconds inside the trainer (set, fit, get) this round. */
  readonly trainerCpuMs: number;
  /** The process's CPU milliseconds so far, at setWeights: the difference between rounds is a round's whole CPU. */
  readonly processCpuMs: number;
}

const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/**
 * Wraps a Trainer to time each round's phases (bench/perClient.ts): where a client's round goes between the
 * download and the upload, and how much of its CPU is training rather than the protocol.
 */
export class PhaseTimedTrainer implements Trainer {
  readonly rounds: RoundPhases[] = [];
  private current: { round: number; weightsSet: number; fitStart: number; fitEnd: number; cpu: number; processCpuMs: number } | undefined;

  constructor(private readonly inner: Trainer) {}

  describe(): TrainerDescription {
    return this.inner.describe();
  }

  async setWeights(weights: Weights): Promise<void> {
    const t = epochMs();
    const c = cpuMs();
    await this.inner.setWeights(weights);
    this.current = { round: 0, weightsSet: t, fitStart: 0, fitEnd: 0, cpu: cpuMs() - c, processCpuMs: c };
  }

  async fit(config: FitConfig): Promise<FitOutcome> {
    const c = cpuMs();
    const fitStart = epochMs();
    const outcome = await this.inner.fit(config);
    if (this.current) Object.assign(this.current, { round: config.round, fitStart, fitEnd: epochMs(), cpu: this.current.cpu + cpuMs() - c });
    return outcome;
  }

  async getWeights(): Promise<Weights> {
    const c = cpuMs();
    const weights = await this.inner.getWeights();
    const now = this.current;
    if (now && now.fitEnd > 0) {
      this.rounds.push({ round: now.round, weightsSet: now.weightsSet, fitStart: now.fitStart, fitEnd: now.fitEnd, weightsRead: epochMs(), trainerCpuMs: now.cpu + cpuMs() - c, processCpuMs: now.processCpuMs });
      this.current = undefined;
    }
    return weights;
  }

  evaluate(config: EvaluateConfig): Promise<EvaluateOutcome> {
    return this.inner.evaluate(config);
  }
}

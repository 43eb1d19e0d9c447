import type { Weights } from '../../protocol/tensors.js';
import type { EvaluateConfig, EvaluateOutcome, FitConfig, FitOutcome, Trainer, TrainerDescription } from '../trainer.js';
import { addWeights, subtractWeights } from '../weightDelta.js';
import { maliciousDelta, type ByzantineAttack } from './maliciousDelta.js';

/**
 * Turns an honest Trainer into a Byzantine one for robustness experiments. The client node uploads
 * `getWeights() - global` after `fit`, so after the honest fit this wrapper rewrites the inner trainer's
 * weights to `global + maliciousDelta(local - global)`: the node then sends the malicious update (up to the
 * float32 rounding of that addition and the node's subtraction) with no change to the node itself.
 * Evaluation stays honest. Note that whatever the node does to an update after `fit` still applies: a
 * configured clip norm clips the malicious update too, which a real attacker would skip.
 */
export class ByzantineTrainer implements Trainer {
  /** The weights of the last setWeights: the global model of the round being trained. */
  private global: Weights | undefined;

  constructor(
    private readonly inner: Trainer,
    /** The attack this trainer mounts. */
    readonly attack: ByzantineAttack,
  ) {}

  describe(): TrainerDescription {
    return this.inner.describe();
  }

  getWeights(): Weights | Promise<Weights> {
    return this.inner.getWeights();
  }

  async setWeights(weights: Weights): Promise<void> {
    // Copied: the caller may reuse its buffers before fit ends.
    this.global = weights.map((t) => ({ name: t.name, shape: [...t.shape], data: Float32Array.from(t.data) }));
    await this.inner.setWeights(weights);
  }

  async fit(config: FitConfig): Promise<FitOutcome> {
    const global = this.global;
    if (!global) throw new Error('a Byzantine trainer needs the global weights (setWeights) before fit');
    const outcome = await this.inner.fit(config);
    const honest = subtractWeights(await this.inner.getWeights(), global);
    await this.inner.setWeights(addWeights(global, maliciousDelta(honest, this.attack, config.round)));
    return outcome;
  }

  evaluate(config: EvaluateConfig): Promise<EvaluateOutcome> {
    return this.inner.evaluate(config);
  }
}

import type { TensorSpec } from '../../protocol/tensors.js';
import type { AggregateNeeds, AggregationRound, Aggregator } from './aggregator.js';

/**
 * Counts every client once, whatever example count it claims: the inner aggregator's mean becomes the
 * plain average over contributors (`totalWeight` = their number). SCAFFOLD needs this (Karimireddy et al.
 * 2020, Algorithm 1 averages with 1/|S|, and its server control variate c stays the mean of the clients'
 * c_i only with uniform weights). A wrapper in the TFF sense: work before (replace the weight), delegate.
 */
export class UniformWeights implements Aggregator {
  readonly name: string;

  constructor(private readonly inner: Aggregator) {
    this.name = `uniform(${inner.name})`;
  }

  bind(spec: readonly TensorSpec[], needs?: AggregateNeeds): void {
    this.inner.bind(spec, needs);
  }

  begin(round: number): AggregationRound {
    const inner = this.inner.begin(round);
    return {
      // A weight that is not positive and finite still goes through, so the inner aggregator refuses it
      // with its own message: the wrapper changes the weighting, not what counts as a valid upload.
      accept: (clientId, weight) => inner.accept(clientId, weight > 0 && Number.isFinite(weight) ? 1 : weight),
      finish: () => inner.finish(),
    };
  }
}

import type { Weights } from '../protocol/tensors.js';
import { DpGaussianMean } from '../coordinator/aggregation/dpGaussianMean.js';
import { StreamingMean } from '../coordinator/aggregation/streamingMean.js';
import { FedAvg } from '../coordinator/strategies/fedAvg.js';
import type { EvaluationSummary, Strategy } from '../coordinator/strategy.js';
import type { ExperimentConfig } from './config/experimentConfig.js';

/** The strategy an experiment config names, with its fit instructions and optional central evaluation. */
export function createStrategy(
  config: ExperimentConfig,
  evaluateFn?: (round: number, weights: Weights) => Promise<EvaluationSummary | undefined>,
): Strategy {
  const s = config.strategy;
  const privacy = config.privacy;
  const t = config.training;
  return new FedAvg({
    fractionFit: s.fractionFit,
    fractionEvaluate: s.fractionEvaluate,
    minFitClients: s.minFitClients,
    ...(s.minEvaluateClients !== undefined ? { minEvaluateClients: s.minEvaluateClients } : {}),
    ...(s.minAvailableClients !== undefined ? { minAvailableClients: s.minAvailableClients } : {}),
    serverLearningRate: s.serverLearningRate,
    fit: {
      epochs: t.epochs,
      batchSize: t.batchSize,
      learningRate: t.learningRate,
      ...(t.maxSteps !== undefined ? { maxSteps: t.maxSteps } : {}),
      // Clients clip too, so an update leaves its site already bounded; the coordinator enforces it anyway.
      ...(privacy ? { extra: { clipNorm: privacy.clipNorm } } : {}),
    },
    ...(privacy ? { aggregator: () => new DpGaussianMean(new StreamingMean(), { clipNorm: privacy.clipNorm, noiseMultiplier: privacy.noiseMultiplier }) } : {}),
    ...(evaluateFn ? { evaluateFn } : {}),
  });
}

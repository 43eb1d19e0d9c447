import { resolve } from 'node:path';
import type { Weights } from '../protocol/tensors.js';
import { Bulyan } from '../coordinator/strategies/bulyan.js';
import { FedAdagrad } from '../coordinator/strategies/fedAdagrad.js';
import { FedAdam } from '../coordinator/strategies/fedAdam.js';
import { FedAvg } from '../coordinator/strategies/fedAvg.js';
import { FedAvgM } from '../coordinator/strategies/fedAvgM.js';
import { FedMedian } from '../coordinator/strategies/fedMedian.js';
import { FedProx } from '../coordinator/strategies/fedProx.js';
import { FedTrimmedAvg } from '../coordinator/strategies/fedTrimmedAvg.js';
import { FedYogi } from '../coordinator/strategies/fedYogi.js';
import { Krum } from '../coordinator/strategies/krum.js';
import { Scaffold } from '../coordinator/strategies/scaffold.js';
import { scaffoldTotalClients } from './config/scaffoldConfig.js';
import { ConfigError } from './config/loadConfig.js';
import type { EvaluationSummary, Strategy } from '../coordinator/strategy.js';
import type { ExperimentConfig } from './config/experimentConfig.js';

/** The strategy an experiment config names, with its fit instructions and optional central evaluation. */
export function createStrategy(
  config: ExperimentConfig,
  evaluateFn?: (round: number, weights: Weights) => Promise<EvaluationSummary | undefined>,
  baseDir = process.cwd(),
): Strategy {
  const s = config.strategy;
  const stagingDir = config.coordinator.stagingDir;
  const privacy = config.privacy;
  const t = config.training;
  const common = {
    fractionFit: s.fractionFit,
    fractionEvaluate: s.fractionEvaluate,
    minFitClients: s.minFitClients,
    ...(s.minEvaluateClients !== undefined ? { minEvaluateClients: s.minEvaluateClients } : {}),
    ...(s.minAvailableClients !== undefined ? { minAvailableClients: s.minAvailableClients } : {}),
    fit: {
      epochs: t.epochs,
      batchSize: t.batchSize,
      learningRate: t.learningRate,
      ...(t.maxSteps !== undefined ? { maxSteps: t.maxSteps } : {}),
    },
    ...(evaluateFn ? { evaluateFn } : {}),
    ...(stagingDir !== undefined ? { aggregation: { stagingDir: resolve(baseDir, stagingDir) } } : {}),
  };
  // Clipping and noise come from the coordinator's `privacy` option (privacyOptions.ts), which wraps this strategy.
  const robust = (name: string) => {
    if (privacy) throw new ConfigError(`strategy ${name} needs every individual update and cannot be combined with privacy (DP-FedAvg)`);
    if (stagingDir !== undefined) throw new ConfigError(`coordinator.stagingDir does not apply to strategy ${name}: it keeps every update in memory; remove it`);
  };
  const adaptive = {
    ...(s.eta !== undefined ? { eta: s.eta } : {}),
    ...(s.tau !== undefined ? { tau: s.tau } : {}),
    ...(s.beta1 !== undefined ? { beta1: s.beta1 } : {}),
  };
  const byzantine = () => {
    if (s.byzantine === undefined) throw new ConfigError(`strategy.byzantine (the number of Byzantine clients to tolerate) is required for ${s.name}`);
    return s.byzantine;
  };
  const strategy = ((): Strategy => {
    switch (s.name) {
      case 'fedavg':
        return new FedAvg({ ...common, serverLearningRate: s.serverLearningRate });
      case 'fedprox':
        if (s.proximalMu === undefined) throw new ConfigError('strategy.proximalMu is required for fedprox (e.g. 0.01)');
        return new FedProx({ ...common, serverLearningRate: s.serverLearningRate, proximalMu: s.proximalMu });
      case 'fedavgm':
        return new FedAvgM({ ...common, serverLearningRate: s.serverLearningRate, ...(s.serverMomentum !== undefined ? { serverMomentum: s.serverMomentum } : {}) });
      case 'fedadam':
        return new FedAdam({ ...common, ...adaptive, ...(s.beta2 !== undefined ? { beta2: s.beta2 } : {}) });
      case 'fedyogi':
        return new FedYogi({ ...common, ...adaptive, ...(s.beta2 !== undefined ? { beta2: s.beta2 } : {}) });
      case 'fedadagrad':
        return new FedAdagrad({ ...common, ...adaptive });
      case 'fedmedian':
        robust(s.name);
        return new FedMedian(common);
      case 'fedtrimmedavg':
        robust(s.name);
        return new FedTrimmedAvg({ ...common, ...(s.trimFraction !== undefined ? { beta: s.trimFraction } : {}) });
      case 'krum':
        robust(s.name);
        return new Krum({ ...common, byzantine: byzantine(), ...(s.keep !== undefined ? { keep: s.keep } : {}) });
      case 'bulyan':
        robust(s.name);
        return new Bulyan({ ...common, byzantine: byzantine() });
      case 'scaffold':
        // The config refused privacy, DP-SGD and non-SGD clients for it (scaffoldConfig.ts).
        return new Scaffold({ ...common, serverLearningRate: s.serverLearningRate, totalClients: scaffoldTotalClients(config) });
    }
  })();
  return strategy;
}

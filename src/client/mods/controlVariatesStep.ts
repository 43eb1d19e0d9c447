import { scaffoldSpec, splitScaffold } from '../../protocol/scaffoldWire.js';
import type { ScaffoldMember } from '../scaffoldMember.js';
import type { FitStep } from './fitChain.js';

/**
 * SCAFFOLD's control variates (Karimireddy et al. 2020): the task downloads [x; c], trains with the
 * correction c - c_i, and uploads [delta_y; delta_c]; c_i is adopted once the upload is sent. Privatized
 * rounds conflict: delta_c gives delta_y back exactly, so clipping or noising the model half protects nothing.
 */
export function controlVariatesStep(member: ScaffoldMember, runId: string): FitStep {
  return {
    name: 'control variates (SCAFFOLD)',
    conflicts: ['clipping', 'local DP', 'secure aggregation ckks', 'secure aggregation secaggplus'],
    downloadSpec: (model) => scaffoldSpec(model),
    modelOf: (download) => splitScaffold(download).first,
    run: async (task) => {
      const round = member.begin(task.download, task.config, { runId, localPrivacy: false });
      await task.trainer.setWeights(round.global);
      const started = performance.now();
      const trained = await round.fit(task.trainer, task.config);
      const metrics = { ...trained.metrics, trainSeconds: (performance.now() - started) / 1000 };
      const upload = round.upload(await task.trainer.getWeights());
      return { global: round.global, delta: upload, numExamples: trained.numExamples, metrics, sent: () => round.commit() };
    },
  };
}

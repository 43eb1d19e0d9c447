import { buildModel } from '../../client/model/buildModel.js';
import { specOutputs, type ModelSpec } from '../../client/model/modelSpec.js';
import { writeModelWeights } from '../../client/model/modelWeights.js';
import { saveLayersModel } from '../../client/model/saveModel.js';
import { weightsHash } from '../../coordinator/weightsHash.js';
import type { PublicScaling } from '../../client/data/publicScaling.js';
import type { DataSchema } from '../../protocol/dataSchema.js';
import type { Weights } from '../../protocol/tensors.js';
import { foldStandardization } from './foldStandardization.js';
import { encodedFeatureNames } from './rawRows.js';
import { writePreprocessing } from './preprocessing.js';

export interface ClientModel {
  readonly out: string;
  readonly spec: ModelSpec;
  readonly inputs: number;
  readonly seed: number;
  readonly weights: Weights;
  readonly schema: DataSchema;
  /** The z-score this node's features went through: the federation's, or its own (standardization: local). */
  readonly scaling?: { readonly mean: Float32Array; readonly std: Float32Array; readonly source: 'federation' | 'this-site' };
  /** Public ranges this node scaled with (standardization: public): kept beside the weights for predict. */
  readonly publicScaling?: PublicScaling;
  readonly run: string;
  readonly round: number;
  readonly generatedBy: string;
}

/**
 * A client's own copy of the final model (under CKKS the only one in the clear), written as `cohort export` writes
 * the coordinator's: the z-score folded into the first layer and preprocessing.json beside it, so `cohort predict`
 * reads raw rows with it.
 */
export async function writeClientModel(m: ClientModel): Promise<void> {
  const weights = m.scaling ? foldStandardization(m.weights, m.scaling.mean, m.scaling.std) : m.weights;
  const model = buildModel(m.spec, m.inputs, m.seed);
  writeModelWeights(model, weights);
  await saveLayersModel(model, m.out, m.generatedBy);
  model.dispose();
  writePreprocessing(m.out, {
    format: 'cohort-fl-preprocessing',
    version: 1,
    run: m.run,
    round: m.round,
    modelSha256: weightsHash(m.weights),
    schema: m.schema,
    featureNames: encodedFeatureNames(m.schema),
    standardization: m.scaling ? 'folded' : m.publicScaling ? 'public' : 'none',
    ...(m.publicScaling ? { publicScaling: m.publicScaling } : {}),
    ...(m.scaling ? { foldedStatistics: m.scaling.source, featureMean: [...m.scaling.mean], featureStd: [...m.scaling.std] } : {}),
    outputs: specOutputs(m.spec),
  });
}

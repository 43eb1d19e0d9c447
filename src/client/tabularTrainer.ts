import * as tf from '@tensorflow/tfjs';
import { featureCount, standardizeTrainTest, type TabularData, type TrainTest } from './data/index.js';
import { TabularScaler } from './tabularScaler.js';
import { buildModel, lossFor } from './model/buildModel.js';
import { specOutputs, type ModelSpec } from './model/modelSpec.js';
import type * as tfTypes from '@tensorflow/tfjs';
import { TfjsTrainer, type LabelledTensors, type TfjsOptimizerName } from './tfjsTrainer.js';
import type { DpSgdOptions } from './dpSgd.js';

/** Turns a table into tensors: labels as a column for binary models, one-hot rows for k-class models. */
export function tabularTensors(data: TabularData, outputs: number): LabelledTensors {
  const x = tf.tensor2d(data.x, [data.rows, featureCount(data)]);
  if (outputs === 1) return { x, y: tf.tensor2d(data.y, [data.rows, 1]) };
  for (const label of data.y) {
    if (!Number.isInteger(label) || label < 0 || label >= outputs) {
      throw new Error(`label ${label} does not fit a model with ${outputs} classes (expected 0..${outputs - 1})`);
    }
  }
  return { x, y: tf.tidy(() => tf.oneHot(tf.tensor1d(data.y, 'int32'), outputs).toFloat()) };
}

/** A model spec and a site's table: what createTabularTrainer builds a TfjsTrainer from. */
export interface TabularTrainerOptions {
  /** The model to build (MLP or layers spec). */
  readonly model: ModelSpec;
  /** This site's train and test rows. */
  readonly data: TrainTest;
  /** The local optimizer. */
  readonly optimizer: TfjsOptimizerName;
  /** Seeds the initial weights and the batch order. */
  readonly seed: number;
  /** The data schema's fingerprint, announced to the coordinator. */
  readonly datasetFingerprint?: string;
  /** Example-level DP-SGD on this node's records (TfjsTrainerOptions.dpSgd). */
  readonly dpSgd?: DpSgdOptions;
  /** The model, already built (a model file's is built asynchronously: buildModelAsync); default: built from `model`. */
  readonly prebuilt?: tfTypes.LayersModel;
}

/** A TfjsTrainer for a declarative MLP on a loaded CSV: what `cohort client` and `cohort simulate` run. */
export function createTabularTrainer(options: TabularTrainerOptions): TfjsTrainer {
  const inputs = featureCount(options.data.train);
  if (options.model.inputs !== undefined && options.model.inputs !== inputs) {
    throw new Error(`model.inputs is ${options.model.inputs} but the data has ${inputs} features`);
  }
  return new TfjsTrainer({
    model: options.prebuilt ?? buildModel(options.model, inputs, options.seed),
    train: tabularTensors(options.data.train, specOutputs(options.model)),
    test: tabularTensors(options.data.test, specOutputs(options.model)),
    loss: lossFor(options.model),
    accuracy: true,
    optimizer: options.optimizer,
    seed: options.seed,
    ...(options.datasetFingerprint ? { datasetFingerprint: options.datasetFingerprint } : {}),
    ...(options.dpSgd ? { dpSgd: options.dpSgd } : {}),
  });
}

/**
 * A tabular client's trainer and scaler over its raw rows. `localStandardization` z-scores with this
 * client's own training statistics (FLamby's per-centre choice); federated standardization, when the
 * coordinator runs it, replaces that with one mean and std for the whole federation.
 */
export function createTabularNode(options: TabularTrainerOptions & { readonly localStandardization: boolean }): { trainer: TfjsTrainer; scaler: TabularScaler } {
  const initial = options.localStandardization ? standardizeTrainTest(options.data) : options.data;
  const trainer = createTabularTrainer({ ...options, data: initial });
  const scaler = new TabularScaler(options.data, (data) => {
    trainer.setData(tabularTensors(data.train, specOutputs(options.model)), tabularTensors(data.test, specOutputs(options.model)));
  });
  return { trainer, scaler };
}

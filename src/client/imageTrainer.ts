import type * as tf from '@tensorflow/tfjs';
import type { DpSgdOptions } from './dpSgd.js';
import { ImageSource } from './data/images/imageSource.js';
import type { ImageError } from './data/images/decodedImage.js';
import type { ImageSplit } from './data/images/openImageData.js';
import { buildModel, lossFor } from './model/buildModel.js';
import { specOutputs, type ModelSpec } from './model/modelSpec.js';
import { TfjsTrainer, type TfjsOptimizerName } from './tfjsTrainer.js';

/** A site's image trainer: the model spec, the listed (not decoded) images, and how to train. */
export interface ImageTrainerOptions {
  /** The model to build (unless `prebuilt` is given). */
  readonly model: ModelSpec;
  /** The site's images, split into train and test (`openImageData`). */
  readonly data: ImageSplit;
  /** The local optimizer. */
  readonly optimizer: TfjsOptimizerName;
  /** Seeds the model's initial weights and the batch order. */
  readonly seed: number;
  /** The data's fingerprint, reported in the trainer's description. */
  readonly datasetFingerprint?: string;
  /** Per-example clipping and noise (DP-SGD); default: plain minibatch SGD. */
  readonly dpSgd?: DpSgdOptions;
  /** The model, already built (a model file's); default: built from `model`. */
  readonly prebuilt?: tf.LayersModel;
  /** Told, locally, of a file that failed to decode mid-training (its message names the file). */
  readonly onSetAside?: (error: ImageError) => void;
}

/**
 * A TfjsTrainer over a site's image files, decoded a batch at a time (ImageSource): memory holds the file list and one
 * batch of pixels, never the site's images. For the same seed it trains exactly as createTabularTrainer does on the
 * same images loaded in memory (the same split, the same batch order).
 */
export function createImageTrainer(options: ImageTrainerOptions): { trainer: TfjsTrainer; train: ImageSource; test: ImageSource } {
  const { data } = options;
  const outputs = specOutputs(options.model);
  const features = data.meta.featureCount;
  if (options.model.inputs !== undefined && options.model.inputs !== features) {
    throw new Error(`model.inputs is ${options.model.inputs} but the images give ${features} values (height x width x channels)`);
  }
  const source = (entries: ImageSplit['train']) => new ImageSource({ entries, config: data.config, outputs, ...(options.onSetAside ? { onSetAside: options.onSetAside } : {}) });
  const train = source(data.train);
  const test = source(data.test);
  const trainer = new TfjsTrainer({
    model: options.prebuilt ?? buildModel(options.model, features, options.seed),
    train,
    test,
    loss: lossFor(options.model),
    accuracy: true,
    optimizer: options.optimizer,
    seed: options.seed,
    ...(options.datasetFingerprint ? { datasetFingerprint: options.datasetFingerprint } : {}),
    ...(options.dpSgd ? { dpSgd: options.dpSgd } : {}),
  });
  return { trainer, train, test };
}

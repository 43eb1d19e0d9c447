import * as tf from '@tensorflow/tfjs';

/** Features and labels, one row per example. */
export interface LabelledTensors {
  /** Features: [rows, ...input shape]. */
  readonly x: tf.Tensor;
  /** Labels: [rows, outputs]. */
  readonly y: tf.Tensor;
}

/** Some rows of a source as tensors; `dispose` frees them (and tells a streaming source they are gone). */
export interface ExampleBatch extends LabelledTensors {
  /** Frees the batch's tensors. */
  dispose(): void;
}

/**
 * Where a trainer's examples come from, by row index: tensors held in memory, or files decoded a batch at a time
 * (image folders too large for memory). The trainer shuffles indices, never data, so both give the same batches.
 */
export interface ExampleSource {
  /** Rows available now; `batch` takes indices in 0..rows-1. */
  readonly rows: number;
  /** Values per row (the model's flat input width). */
  readonly features: number;
  /** The given rows, in that order. Rejects when a row cannot be produced (a file that does not decode). */
  batch(rows: readonly number[]): Promise<ExampleBatch>;
  /** Frees what the source holds. */
  dispose(): void;
}

export const isExampleSource = (data: LabelledTensors | ExampleSource): data is ExampleSource => 'batch' in data;

/** In-memory tensors as a source: a batch is a gather of its rows. */
export function tensorSource(data: LabelledTensors): ExampleSource {
  const rows = data.x.shape[0];
  if (rows === undefined || rows !== data.y.shape[0]) throw new Error(`x has ${rows} rows but y has ${data.y.shape[0]}: give one label row per example`);
  return {
    rows,
    features: data.x.shape[1] ?? 1,
    batch: (indices) => {
      const [x, y] = tf.tidy(() => {
        const idx = tf.tensor1d(indices as number[], 'int32');
        return [tf.gather(data.x, idx), tf.gather(data.y, idx)];
      });
      return Promise.resolve({ x: x!, y: y!, dispose: () => tf.dispose([x!, y!]) });
    },
    dispose: () => tf.dispose([data.x, data.y]),
  };
}

import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { selectBackend } from '../client/backend/index.js';
import { applyPublicScaling } from '../client/data/publicScaling.js';
import { readPreprocessing } from './modelPackage/preprocessing.js';
import { readRawRows } from './modelPackage/rawRows.js';

export interface PredictOptions {
  readonly model: string;
  readonly data: string;
  /** A CSV of `line,prediction,score` per predicted row. */
  readonly out?: string;
}

export interface PredictSummary {
  readonly rows: number;
  readonly skipped: number;
  /** Over the rows whose label the file holds; undefined without a label column. */
  readonly accuracy?: number;
}

/**
 * `cohort predict`: the exported model on raw CSV rows, preprocessed as in training (columns by name, one-hot
 * levels, the federation's standardization already folded into the first layer). With the label column in the
 * file it prints the accuracy; `--out` writes one prediction per row.
 */
export async function runPredict(options: PredictOptions, print: (line: string) => void): Promise<PredictSummary> {
  const dir = resolve(options.model);
  const pre = readPreprocessing(dir);
  if (!pre.schema) throw new Error(`${dir} was exported without a data schema (no site announced one in run ${pre.run}): the model cannot be fed raw rows`);
  if (pre.standardization === 'per-site') {
    throw new Error(`run ${pre.run} used per-site standardization (standardization: local): every site scaled its features with its own statistics, so there is no one preprocessing to apply to raw rows`);
  }
  await selectBackend({ log: () => undefined });
  if (pre.standardization === 'public' && !pre.publicScaling) throw new Error(`${dir}: preprocessing.json says standardization: public but holds no publicScaling`);
  const raw = readRawRows(resolve(options.data), pre.schema);
  // Public ranges clip before they scale, so they cannot be folded into the first layer: applied here, as in training.
  const rows = pre.publicScaling ? { ...raw, data: applyPublicScaling({ train: raw.data, test: raw.data }, pre.publicScaling).train } : raw;
  const skipped = rows.rowsRead - rows.data.rows;
  if (skipped > 0) print(`${skipped} of ${rows.rowsRead} rows skipped for missing values (${Object.entries(rows.missingByColumn).map(([c, n]) => `${c} ${n}`).join(', ')})`);
  const model = await tf.loadLayersModel(tf.io.fromMemory(modelArtifacts(dir)));
  const width = rows.data.featureNames.length;
  const scores = tf.tidy(() => (model.predict(tf.tensor2d(rows.data.x, [rows.data.rows, width])) as tf.Tensor).arraySync() as number[][]);
  model.dispose();
  const predicted = scores.map((s) => (pre.outputs === 1 ? (s[0]! >= 0.5 ? 1 : 0) : s.indexOf(Math.max(...s))));
  if (options.out) {
    const lines = predicted.map((p, i) => `${rows.lines[i]},${labelText(p, pre.schema!.label.transform)},${(pre.outputs === 1 ? scores[i]![0]! : scores[i]![p]!).toFixed(6)}`);
    writeFileSync(resolve(options.out), `line,prediction,score\n${lines.join('\n')}\n`);
    print(`wrote ${predicted.length} predictions to ${resolve(options.out)}`);
  }
  if (!rows.labelled) {
    print(`predicted ${predicted.length} rows (no '${pre.schema.label.name}' column, so no accuracy)`);
    return { rows: predicted.length, skipped };
  }
  const correct = predicted.filter((p, i) => p === rows.data.y[i]).length;
  const accuracy = predicted.length === 0 ? 0 : correct / predicted.length;
  print(`accuracy ${accuracy.toFixed(4)} on ${predicted.length} rows (${correct} correct; run ${pre.run}, round ${pre.round})`);
  return { rows: predicted.length, skipped, accuracy };
}

/** model.json and weights.bin as tfjs reads them from memory (no tfjs-node file handler needed). */
function modelArtifacts(dir: string): tf.io.ModelArtifacts {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const bytes = readFileSync(join(dir, 'weights.bin'));
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((m) => m.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  };
}

/** A predicted label value in the file's own terms when the label map names it (e.g. M for 1). */
function labelText(value: number, transform: { map: Record<string, number> } | { binarize: { above: number } } | undefined): string {
  if (transform && 'map' in transform) {
    const names = Object.entries(transform.map).filter(([, v]) => v === value).map(([k]) => k);
    if (names.length === 1) return names[0]!;
  }
  return String(value);
}

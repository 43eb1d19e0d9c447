import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex (64 characters, as sha256sum prints it)');

/**
 * A model in TensorFlow.js's layers format (model.json, as `tensorflowjs_converter` writes it from a Keras model, or
 * tfjs `model.save`). The coordinator reads the file and hands its exact bytes to the clients; `json` and `sha256` are
 * filled in when the file is read (they travel with the spec to the clients), `outputs`/`inputs` from its shapes.
 */
export const modelFileSpecSchema = z.strictObject({
  type: z.literal('file'),
  path: z.string().min(1),
  /** Pins the file: a model.json whose SHA-256 differs is refused. */
  sha256: sha256Hex.optional(),
  outputs: z.number().int().min(1).optional(),
  inputs: z.number().int().min(1).optional(),
  /** The file's text as read (set by readModelFile, not by hand). */
  json: z.string().optional(),
});
/** A tfjs model.json to train, pinned by its SHA-256. */
export type ModelFileSpec = z.infer<typeof modelFileSpecSchema>;
export { sha256Hex as sha256HexSchema };

export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
}

export const sha256Of = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Refuses a model whose hash is not the pinned one, naming both (and who pinned it). */
export function checkModelPin(actual: string, pinned: string | undefined, who: string): void {
  if (pinned !== undefined && pinned !== actual) {
    throw new ModelFileError(`the model's SHA-256 is ${actual}, but ${who} pins ${pinned}: refusing a model other than the one pinned`);
  }
}

interface LayersModelJson {
  readonly modelTopology?: unknown;
  readonly weightsManifest?: readonly { readonly paths: readonly string[]; readonly weights: tf.io.WeightsManifestEntry[] }[];
}

function parseModelJson(text: string, where: string): LayersModelJson {
  let json: LayersModelJson;
  try {
    json = JSON.parse(text) as LayersModelJson;
  } catch (e) {
    throw new ModelFileError(`${where} is not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw new ModelFileError(`${where} has no modelTopology: it must be a tfjs layers model (format layers-model, as tensorflowjs_converter --output_format tfjs_layers_model writes)`);
  }
  return json;
}

/** The architecture a model.json text describes, freshly initialized (the coordinator's weights replace these). */
export async function modelFromJson(text: string, where: string): Promise<tf.LayersModel> {
  const json = parseModelJson(text, where);
  try {
    return await tf.models.modelFromJSON({ modelTopology: json.modelTopology as tf.io.ModelJSON['modelTopology'] });
  } catch (e) {
    throw new ModelFileError(`${where}: tfjs cannot build this model (${(e as Error).message})`);
  }
}

/**
 * Reads a model.json (and its weight files, which give the initial global model), checks the pin, and returns the
 * spec completed with the text, hash, input width and output count, and the model with the file's weights.
 */
export async function readModelFile(spec: ModelFileSpec, baseDir: string): Promise<{ spec: ModelFileSpec & { json: string; sha256: string; inputs: number; outputs: number }; model: tf.LayersModel }> {
  const file = resolve(baseDir, spec.path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelFileError(`cannot read model.path ${file} (${(e as Error).message})`);
  }
  const sha256 = sha256Of(text);
  checkModelPin(sha256, spec.sha256, `model.sha256 in the config`);
  const json = parseModelJson(text, file);
  const model = await modelFromJson(text, file);
  if (json.weightsManifest && json.weightsManifest.length > 0) {
    const specs = json.weightsManifest.flatMap((g) => g.weights);
    const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(resolve(dirname(file), p))));
    const data = Buffer.concat(buffers);
    const named = tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), specs);
    model.loadWeights(named);
    tf.dispose(Object.values(named));
  }
  const inputShape = model.inputs[0]!.shape.slice(1);
  const outputShape = model.outputs[0]!.shape.slice(1);
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || outputShape.length !== 1 || inputShape.some((d) => d === null)) {
    throw new ModelFileError(`${file}: Cohort trains models with one input of fixed shape and one output vector; this one takes [${model.inputs.map((i) => `[${i.shape.join(', ')}]`).join(', ')}] and gives [${model.outputs.map((o) => `[${o.shape.join(', ')}]`).join(', ')}]`);
  }
  if (inputShape.length !== 1) {
    throw new ModelFileError(`${file}: its input has shape [${inputShape.join(', ')}]; Cohort feeds flat rows, so begin the Keras model with Input(shape=(${inputShape.reduce((a, b) => a! * b!, 1)},)) and a Reshape to [${inputShape.join(', ')}]`);
  }
  return { spec: { ...spec, json: text, sha256, inputs: inputShape[0]!, outputs: outputShape[0]! }, model };
}

import type * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Coordinator } from '../coordinator/coordinator.js';
import { pathOf, reply } from '../coordinator/observability/httpReply.js';
import { buildModelAsync } from '../client/model/buildModel.js';
import { checkModelPin, ModelFileError, sha256Of, type ModelFileSpec } from '../client/model/modelFile.js';

/** Where a coordinator serves its model file's text (the architecture; never weights, which travel signed per task). */
export const MODEL_JSON_PATH = '/model.json';

/** Serves the experiment's model.json, byte for byte as read, so a client's `sha256sum` of the download matches the pin. */
export function serveModelJson(coordinator: Coordinator, json: string): void {
  coordinator.addHttpHandler((request, response) => {
    if (pathOf(request) !== MODEL_JSON_PATH) return false;
    reply(request, response, 'application/json; charset=utf-8', json);
    return true;
  });
}

/**
 * A client's model file: from the coordinator (`path` is the coordinator's URL + /model.json) or a local copy, hashed by
 * the client from the text it got and refused when its config pins another hash (naming both). Returns the model with
 * fresh weights; the coordinator's global model replaces them in every task.
 */
export async function loadClientModelFile(spec: ModelFileSpec, baseDir: string, inputs: number, seed: number, pinned: string | undefined): Promise<{ model: tf.LayersModel; sha256: string; json: string }> {
  let json: string;
  if (/^https?:\/\//.test(spec.path)) {
    const response = await fetch(spec.path).catch((e: Error) => {
      throw new ModelFileError(`cannot download the model from ${spec.path} (${e.message})`);
    });
    if (!response.ok) throw new ModelFileError(`cannot download the model from ${spec.path}: HTTP ${response.status}`);
    json = await response.text();
  } else {
    try {
      json = readFileSync(resolve(baseDir, spec.path), 'utf8');
    } catch (e) {
      throw new ModelFileError(`cannot read model.path ${resolve(baseDir, spec.path)} (${(e as Error).message})`);
    }
  }
  const sha256 = sha256Of(json);
  checkModelPin(sha256, pinned, 'this client (security.modelSha256)');
  checkModelPin(sha256, spec.sha256, 'model.sha256 in this client config');
  return { model: await buildModelAsync({ ...spec, json }, inputs, seed), sha256, json };
}

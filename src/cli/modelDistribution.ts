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
export async function loadClientModelFile(spec: ModelFileSpec, baseDir: string, inputs: number, seed: number, pinned: string | undefined, download: DownloadOptions = {}): Promise<{ model: tf.LayersModel; sha256: string; json: string }> {
  let json: string;
  if (/^https?:\/\//.test(spec.path)) {
    json = await downloadModelJson(spec.path, download);
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

export interface DownloadOptions {
  /** Told of each retry while the coordinator cannot be reached (a line for the node's log). */
  readonly onRetry?: (line: string) => void;
  /** Attempts before giving up; default: keep trying, as the node's connection does. */
  readonly attempts?: number;
  /** First delay, doubled after each failure up to 10 s. */
  readonly baseDelayMs?: number;
}

const MAX_DELAY_MS = 10_000;

/**
 * GETs the coordinator's model.json. A coordinator not up yet (no connection, or a 502/503/504 from a proxy in front of
 * it) is waited for with a capped backoff, as the node's socket connection is: hospitals may start before the
 * researcher. Any other HTTP status is final.
 */
async function downloadModelJson(url: string, options: DownloadOptions): Promise<string> {
  const attempts = options.attempts ?? Infinity;
  let delay = options.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    try {
      const response = await fetch(url);
      if (response.ok) return await response.text();
      if (![502, 503, 504].includes(response.status)) throw new ModelFileError(`cannot download the model from ${url}: HTTP ${response.status}`);
      reason = `HTTP ${response.status}`;
    } catch (e) {
      if (e instanceof ModelFileError) throw e;
      const cause = (e as Error & { cause?: Error }).cause;
      reason = cause?.message ?? (e as Error).message;
    }
    if (attempt >= attempts) throw new ModelFileError(`cannot download the model from ${url} (${reason})`);
    options.onRetry?.(`model: cannot download ${url} yet (${reason}); trying again in ${(delay / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  }
}

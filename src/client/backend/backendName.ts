/**
 * The training backends Cohort knows, in the order `auto` tries them (fastest first).
 * `tensorflow-gpu` and `tensorflow` are the native bindings (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`);
 * both register under tfjs's backend name `tensorflow`.
 */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** A tfjs backend Cohort can select. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What a config or `COHORT_BACKEND` may say: one backend, or `auto` for the first that works. */
export const BACKEND_PREFERENCES = ['auto', ...BACKEND_NAMES] as const;

/** A backend to force, or `auto` (the first that works). */
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

/** The name each backend registers with tfjs (`tf.setBackend` takes this one). */
export const TFJS_BACKEND_NAME: Readonly<Record<BackendName, string>> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  webgpu: 'webgpu',
  wasm: 'wasm',
  cpu: 'cpu',
};

/**
 * Validates a preference read from config or the environment. Case and surrounding blanks are ignored.
 * @param source names where the value came from, for the error message (e.g. `COHORT_BACKEND`).
 */
export function parseBackendPreference(value: string, source: string): BackendPreference {
  const normalized = value.trim().toLowerCase();
  const found = BACKEND_PREFERENCES.find((name) => name === normalized);
  if (found === undefined) {
    throw new Error(
      `unknown training backend ${JSON.stringify(value)} in ${source}; allowed: ${BACKEND_PREFERENCES.join(', ')}`,
    );
  }
  return found;
}

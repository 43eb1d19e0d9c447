import { quietCpuBanner } from './quietCpuBanner.js';
import * as tf from '@tensorflow/tfjs';
import {
  BACKEND_NAMES,
  BACKEND_PREFERENCES,
  parseBackendPreference,
  TFJS_BACKEND_NAME,
  type BackendName,
  type BackendPreference,
} from './backendName.js';
import { DEFAULT_LOADERS, type BackendLoader } from './defaultLoaders.js';
import { ModuleNotInstalledError } from './importOptional.js';

/** The environment variable that overrides the configured preference. */
export const BACKEND_ENV_VAR = 'COHORT_BACKEND';

/** What selectBackend may try and how it reports. */
export interface SelectBackendOptions {
  /** From the client's config; `COHORT_BACKEND` overrides it. Default `auto`. */
  readonly preference?: BackendPreference;
  /** Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces the real loaders one by one (tests of the selection logic on machines without a GPU). */
  readonly loaders?: Partial<Record<BackendName, BackendLoader>>;
  /** Receives the one summary line. Default `console.log`. */
  readonly log?: (line: string) => void;
}

/** One backend tried: why it was skipped, when it was. */
export interface BackendAttempt {
  /** The backend tried. */
  readonly backend: BackendName;
  /** Why it could not be used; absent for the backend that was chosen. */
  readonly error?: string;
}

/** The backend in use and what was tried before it. */
export interface BackendSelection {
  /** The backend tfjs now runs on. */
  readonly backend: BackendName;
  /** Every backend tried, in order; the last one is the chosen one. */
  readonly tried: readonly BackendAttempt[];
}

/**
 * Chooses the tfjs backend and makes it current (`tf.setBackend`, then `tf.ready()`).
 *
 * `auto` tries tensorflow-gpu, tensorflow, webgpu, wasm, cpu and keeps the first that loads and
 * initializes. A named backend is tried alone: if it fails the call throws, naming it and why, rather
 * than train silently on something slower than asked for.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const { preference, source } = resolvePreference(options.preference, env);
  const candidates: readonly BackendName[] = preference === 'auto' ? BACKEND_NAMES : [preference];

  const tried: BackendAttempt[] = [];
  for (const backend of candidates) {
    const loader = options.loaders?.[backend] ?? DEFAULT_LOADERS[backend];
    const error = await tryBackend(backend, loader);
    if (error === undefined) {
      tried.push({ backend });
      quietCpuBanner();
      log(summaryLine(backend, tried));
      return { backend, tried };
    }
    tried.push({ backend, error });
    if (preference !== 'auto') {
      throw new Error(
        `training backend '${backend}' (from ${source}) is not available: ${error}. ` +
          `Set ${BACKEND_ENV_VAR}=auto to use the first that works, or choose one of: ${BACKEND_PREFERENCES.join(', ')}`,
      );
    }
  }
  throw new Error(`no training backend works: ${describeFailures(tried)}`);
}

function resolvePreference(
  configured: BackendPreference | undefined,
  env: NodeJS.ProcessEnv,
): { preference: BackendPreference; source: string } {
  const fromEnv = env[BACKEND_ENV_VAR];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return { preference: parseBackendPreference(fromEnv, BACKEND_ENV_VAR), source: BACKEND_ENV_VAR };
  }
  if (configured !== undefined) {
    // Config files arrive untyped; check the value even though the type says it is valid.
    return { preference: parseBackendPreference(String(configured), 'the config'), source: 'the config' };
  }
  return { preference: 'auto', source: 'the default' };
}

/** Loads and activates one backend; returns why it failed, or undefined when it is now current. */
async function tryBackend(backend: BackendName, loader: BackendLoader): Promise<string | undefined> {
  try {
    if (!(await loader())) return 'not available';
    // setBackend resolves false (after a console warning from tfjs) when the backend fails to initialize.
    if (!(await tf.setBackend(TFJS_BACKEND_NAME[backend]))) return 'failed to initialize';
    await tf.ready();
    return undefined;
  } catch (error) {
    return reasonOf(error);
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof ModuleNotInstalledError) return 'module not installed';
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n', 1)[0]?.trim() ?? '';
  const reason = firstLine === '' ? 'failed' : firstLine;
  return reason.length > 200 ? `${reason.slice(0, 197)}...` : reason;
}

function describeFailures(tried: readonly BackendAttempt[]): string {
  return tried
    .filter((attempt) => attempt.error !== undefined)
    .map((attempt) => `${attempt.backend}: ${attempt.error}`)
    .join(', ');
}

/** `backend: wasm (tried tensorflow-gpu: module not installed, ..., webgpu: no GPU adapter)` */
function summaryLine(backend: BackendName, tried: readonly BackendAttempt[]): string {
  const failures = describeFailures(tried);
  return failures === '' ? `backend: ${backend}` : `backend: ${backend} (tried ${failures})`;
}

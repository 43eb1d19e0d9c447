export {
  BACKEND_NAMES,
  BACKEND_PREFERENCES,
  TFJS_BACKEND_NAME,
  parseBackendPreference,
  type BackendName,
  type BackendPreference,
} from './backendName.js';
export { DEFAULT_LOADERS, type BackendLoader } from './defaultLoaders.js';
export { ModuleNotInstalledError } from './importOptional.js';
export { registerWasmTrainingKernels } from './registerWasmTrainingKernels.js';
export {
  BACKEND_ENV_VAR,
  selectBackend,
  type BackendAttempt,
  type BackendSelection,
  type SelectBackendOptions,
} from './selectBackend.js';

import { RunStore, type RunRow } from '../coordinator/store/runStore.js';
import type { ExperimentConfig } from './config/experimentConfig.js';
import { ConfigError } from './config/loadConfig.js';
import { buildManifest, experimentHash, type Manifest } from './manifest.js';

export interface StoredRunPlan {
  readonly store: RunStore;
  /** The run to continue, when the store holds an unfinished run of this experiment. */
  readonly resume: RunRow | undefined;
  readonly manifest: Manifest;
}

/**
 * Opens the store and decides between a new run and resuming: an unfinished run of the same experiment
 * (same name and config hash) is continued; one of a different config is an error unless `newRun`.
 */
export function planStoredRun(path: string, config: ExperimentConfig, newRun: boolean): StoredRunPlan {
  const store = new RunStore(path);
  const manifest = buildManifest(config);
  const unfinished = newRun ? undefined : store.unfinishedRun(config.name);
  if (unfinished && unfinished.configHash !== manifest.configHash) {
    store.close();
    throw new ConfigError(
      `${path} holds unfinished run ${unfinished.id} of "${config.name}" started with a different configuration (hash ${unfinished.configHash.slice(0, 12)}, now ${experimentHash(config).slice(0, 12)}): restart with the original config to resume it, or pass --new-run to start another run`,
    );
  }
  return { store, resume: unfinished, manifest };
}

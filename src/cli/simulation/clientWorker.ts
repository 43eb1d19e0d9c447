// A piscina worker: hosts one slice of a simulation's virtual clients in its own thread, with its own tfjs.
import { pino, type LevelWithSilent } from 'pino';
import { selectBackend, type BackendName } from '../../client/backend/index.js';
import type { Weights } from '../../protocol/tensors.js';
import { ProgressCounter, reportProgress } from './clientProgress.js';
import { refusals, startVirtualClients, type FederationSettings, type VirtualClient } from './virtualClients.js';

export interface SliceTask {
  readonly settings: FederationSettings;
  readonly clients: readonly VirtualClient[];
  /** The backend the coordinator's thread runs, so that every thread computes alike. */
  readonly backend: BackendName;
  readonly logLevel: LevelWithSilent;
  /** Set for the worker that hosts the simulation's first client: return its last global model. */
  readonly returnFirstModel: boolean;
  /** Post event counts on the progress channel (a `cohort host` prints them). */
  readonly reportProgress?: boolean;
}

export interface SliceResult {
  readonly firstClientModel?: Weights;
  /** Why clients were refused for good, one line each ("client-0003: reason"). */
  readonly refused: readonly string[];
}

/** Runs the slice's clients until the coordinator ends the run; rejects, naming the client, if one cannot be built. */
export default async function hostSlice(task: SliceTask): Promise<SliceResult> {
  // The named backend alone, not `auto` again nor COHORT_BACKEND: the main thread already resolved both.
  await selectBackend({ preference: task.backend, env: {}, log: () => undefined });
  const logger = pino({ level: task.logLevel }, pino.destination(2));
  const counter = task.reportProgress ? new ProgressCounter() : undefined;
  const running = await startVirtualClients(task.settings, task.clients, logger, counter?.onEvent);
  const stopReporting = counter ? reportProgress(counter) : () => undefined;
  try {
    // A client refused for good ends its part, as in the coordinator's thread; the run goes on without it.
    const refused = await refusals(running.handles, task.clients);
    const model = task.returnFirstModel ? running.handles[0]?.globalWeights() : undefined;
    return model ? { firstClientModel: model, refused } : { refused };
  } finally {
    stopReporting();
    await running.stop();
  }
}

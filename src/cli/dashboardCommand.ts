import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dashboardPage } from '../coordinator/observability/dashboardPage.js';
import { dashboardRoutes } from '../coordinator/observability/dashboardRoutes.js';
import { EventStream } from '../coordinator/observability/eventStream.js';
import { ObservabilityServer } from '../coordinator/observability/observabilityServer.js';
import { generateObserverToken, MIN_TOKEN_LENGTH, observerGate } from '../coordinator/observability/observerGate.js';
import { RunStore, StoreError } from '../coordinator/store/runStore.js';
import { ConfigError } from './config/loadConfig.js';
import { findStoredRun, replayStoredRun } from './replayRun.js';

export interface DashboardCommandOptions {
  readonly store: string;
  /** Run id or a unique prefix; or `latest`. */
  readonly run?: string;
  readonly latest?: boolean;
  readonly host: string;
  readonly port: number;
  /** A file holding the observer token (the experiment's `observability.tokenFile`); default: a fresh token. */
  readonly tokenFile?: string;
}

export interface ServedDashboard {
  readonly url: string;
  readonly runId: string;
  close(): Promise<void>;
}

/**
 * `cohort dashboard`: a finished (or interrupted) run's dashboard, served from the store after its coordinator has
 * exited. The run is read once and the store closed; the page, API and observer-token gate are the live dashboard's,
 * and nothing is served that could change a run.
 */
export async function serveStoredDashboard(options: DashboardCommandOptions, print: (line: string) => void): Promise<ServedDashboard> {
  const path = resolve(options.store);
  // Opening a missing path would create an empty store; say where the runs are instead.
  if (!existsSync(path)) throw new StoreError(`no run store at ${path}: pass --store with the store the coordinator used (its store.path, default ./cohort.db)`);
  const store = new RunStore(path);
  let observer;
  let run;
  try {
    run = findStoredRun(store, { ...(options.run !== undefined ? { id: options.run } : {}), latest: options.latest ?? false });
    observer = replayStoredRun(store, run);
  } finally {
    store.close();
  }
  const token = options.tokenFile ? readTokenFile(resolve(options.tokenFile)) : generateObserverToken();
  const server = await ObservabilityServer.listen(options.host, options.port);
  const stream = new EventStream();
  server.addHttpHandler(observerGate({ tokens: [token] }, false));
  server.addHttpHandler(dashboardRoutes(observer, stream, dashboardPage()));
  const link = options.tokenFile ? `${server.url}/?token=<the token in ${options.tokenFile}>` : `${server.url}/?token=${token}`;
  print(`run ${run.id} "${run.name}": ${run.status}, ${run.lastRound} of ${run.roundsPlanned} rounds (store ${path})`);
  print(`dashboard: ${link}   (read-only, until Ctrl-C)`);
  return {
    url: server.url,
    runId: run.id,
    close: async () => {
      stream.end();
      await server.close();
    },
  };
}

function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(`--token-file: cannot read ${path}: ${(e as Error).message}`);
  }
  if (text.length < MIN_TOKEN_LENGTH) throw new ConfigError(`--token-file ${path} holds ${text.length} characters; an observer token needs at least ${MIN_TOKEN_LENGTH}`);
  return text;
}

/** Serves the dashboard until SIGINT (Ctrl-C) or SIGTERM, then closes it. */
export async function runDashboard(options: DashboardCommandOptions, print: (line: string) => void): Promise<void> {
  const served = await serveStoredDashboard(options, print);
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  await served.close();
  print(`dashboard of run ${served.runId} closed (${signal})`);
}

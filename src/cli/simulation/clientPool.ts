import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type { LevelWithSilent } from 'pino';
import type { BackendName } from '../../client/backend/index.js';
import type { Weights } from '../../protocol/tensors.js';
import type { ClientHost } from './clientHost.js';
import type { SliceResult, SliceTask } from './clientWorker.js';
import type { FederationSettings, VirtualClient } from './virtualClients.js';
import { balanceSlices } from './workerCount.js';

export interface ClientPoolOptions {
  readonly settings: FederationSettings;
  readonly clients: readonly VirtualClient[];
  /** Worker threads, at least 1 (resolveWorkerCount decides when a pool is worth it). */
  readonly workers: number;
  readonly backend: BackendName;
  readonly logLevel: LevelWithSilent;
  /** Workers post event counts on the progress channel. */
  readonly reportProgress?: boolean;
}

/**
 * The worker's file beside this one, with this file's extension: `.js` when running from dist/, `.ts` under
 * tsx or vitest, where the worker thread also needs tsx's loader (vitest's transform does not reach it).
 */
function workerEntry(): { filename: string; execArgv: string[] } {
  const extension = extname(fileURLToPath(import.meta.url));
  const filename = new URL(`./clientWorker${extension}`, import.meta.url).href;
  const tsxLoaded = process.execArgv.some((arg) => arg === 'tsx' || /[\\/]node_modules[\\/]tsx[\\/]/.test(arg));
  if (extension !== '.ts' || tsxLoaded) return { filename, execArgv: process.execArgv };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { filename, execArgv: [...process.execArgv, '--import', tsx] };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Virtual clients spread over a piscina pool: one long task per worker thread, each hosting a balanced slice
 * (by training rows) for the whole run, so every core trains. The first task that fails rejects `failure`
 * with the worker's error; `close` terminates every thread, which also stops clients that never saw the end.
 */
export function hostInWorkers(options: ClientPoolOptions): ClientHost {
  const { clients, workers } = options;
  const slices = balanceSlices(clients.map((c) => c.data.train.rows), Math.min(workers, clients.length)).filter((s) => s.length > 0);
  // Threads stay up for the whole run and tasks must never queue: each task lives until the run ends.
  const pool = new Piscina<SliceTask, SliceResult>({ ...workerEntry(), minThreads: slices.length, maxThreads: slices.length, atomics: 'disabled' });
  let closing = false;
  let firstModel: Weights | undefined;
  const refused: string[] = [];
  let reportFailure: (e: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => (reportFailure = reject));
  failure.catch(() => undefined); // observed by whoever races it; never an unhandled rejection
  const fail = (e: Error) => {
    if (!closing) reportFailure(e);
  };
  pool.on('error', (e: unknown) => fail(new Error(`a simulation worker thread failed: ${message(e)}`)));

  const tasks = slices.map((indices, w) => {
    const slice = indices.map((i) => clients[i]!);
    const task: SliceTask = { settings: options.settings, clients: slice, backend: options.backend, logLevel: options.logLevel, returnFirstModel: indices[0] === 0, reportProgress: options.reportProgress ?? false };
    const names = slice.length === 1 ? slice[0]!.name : `${slice[0]!.name} .. ${slice[slice.length - 1]!.name}`;
    return pool.run(task).then(
      (result) => {
        if (result.firstClientModel) firstModel = result.firstClientModel;
        refused.push(...result.refused);
      },
      (e: unknown) => fail(new Error(`simulation worker ${w + 1} of ${slices.length} (${slice.length} clients: ${names}) failed: ${message(e)}`)),
    );
  });

  let closed: Promise<void> | undefined;
  const close = () => {
    closing = true;
    return (closed ??= pool.destroy());
  };
  const sizes = slices.map((s) => s.length);
  const least = Math.min(...sizes);
  const most = Math.max(...sizes);
  return {
    description: `${slices.length} worker threads host ${clients.length} clients (${least === most ? least : `${least} to ${most}`} each)`,
    failure,
    finish: async (graceMs) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(tasks), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      await close();
      return firstModel;
    },
    refused: () => refused,
    close,
  };
}

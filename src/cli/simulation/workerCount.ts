import { availableParallelism } from 'node:os';

/** `simulation.workers` in an experiment config: a thread count, or `auto` (one per core). */
export type WorkerSetting = 'auto' | number;

/**
 * Worker threads to host `clients` virtual clients: `auto` is one per core, and never more threads than
 * clients. 0 means every client runs in the coordinator's thread; so does 1, since a single worker would
 * only move the clients off the coordinator's thread without adding a core.
 */
export function resolveWorkerCount(setting: WorkerSetting, clients: number, cores: number = availableParallelism()): number {
  const wanted = setting === 'auto' ? cores : setting;
  if (!Number.isInteger(wanted) || wanted < 0) throw new RangeError(`simulation.workers must be 'auto' or a whole number >= 0, got ${setting}`);
  const count = Math.min(wanted, clients);
  return count <= 1 ? 0 : count;
}

/**
 * Deals clients to `slots` workers so that their loads (training rows) are as even as greedy allows: the
 * heaviest client first, each to the least loaded worker (ties: fewer clients, then the lower slot). Returns
 * each worker's client indices, in ascending order; no slot is empty while there are at least as many clients.
 */
export function balanceSlices(loads: readonly number[], slots: number): number[][] {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`need at least one slot, got ${slots}`);
  const order = loads.map((_, i) => i).sort((a, b) => loads[b]! - loads[a]! || a - b);
  const slices = Array.from({ length: slots }, () => ({ load: 0, clients: [] as number[] }));
  for (const client of order) {
    let target = slices[0]!;
    for (const s of slices) if (s.load < target.load || (s.load === target.load && s.clients.length < target.clients.length)) target = s;
    target.load += loads[client]!;
    target.clients.push(client);
  }
  return slices.map((s) => s.clients.sort((a, b) => a - b));
}

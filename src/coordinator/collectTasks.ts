import { randomUUID } from 'node:crypto';
import type { ClientRegistry } from './clientRegistry.js';
import type { ClientSession } from './clientSession.js';
import { settleWithin } from './deadline.js';
import type { ClientSummary, TaskFailure } from './strategy.js';
import { TaskError } from './taskError.js';

function asFailure(client: ClientSummary, error: unknown): TaskFailure {
  return error instanceof TaskError
    ? { client, reason: error.reason, detail: error.message }
    : { client, reason: 'client-error', detail: String(error) };
}

/**
 * Starts one task per client and collects replies until all arrive or the deadline passes, like
 * socket.io's broadcast-with-acks: late tasks are cancelled and come back as 'timeout' failures.
 */
export async function collectTasks<T extends { client: ClientSummary }, R>(
  tasks: readonly T[],
  registry: ClientRegistry,
  start: (session: ClientSession, task: T, taskId: string) => Promise<R>,
  deadlineMs: number,
  what: string,
): Promise<{ reports: R[]; failures: TaskFailure[] }> {
  const dispatched = tasks.map((task) => {
    const taskId = randomUUID();
    const session = registry.get(task.client.id);
    const promise = session ? start(session, task, taskId) : Promise.reject(new TaskError('disconnected', `client left before the ${what} started`));
    return { task, taskId, session, promise };
  });
  const settled = await settleWithin(dispatched.map((d) => d.promise), deadlineMs);
  const reports: R[] = [];
  const failures: TaskFailure[] = [];
  settled.forEach((result, i) => {
    const { task, taskId, session } = dispatched[i]!;
    if (result === undefined) {
      const error = new TaskError('timeout', `no ${what} result within the deadline of ${Math.round(deadlineMs / 1000)} s`);
      session?.cancel(taskId, error);
      failures.push(asFailure(task.client, error));
    } else if (result.status === 'fulfilled') {
      reports.push(result.value);
    } else {
      failures.push(asFailure(task.client, result.reason));
    }
  });
  return { reports, failures };
}

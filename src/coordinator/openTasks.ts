import type { UploadSink, UploadTarget } from './uploadTarget.js';
import type { EvaluateReport, FitReport } from './strategy.js';
import { TaskError } from './taskError.js';

/** A task whose answer is an upload streamed into the round's sum: a model update or feature moments. */
export interface PendingUpload {
  readonly kind: 'fit' | 'statistics';
  readonly round: number;
  /** Where the upload goes: the mode's sum (plaintext aggregation, ciphertext sum...). */
  readonly target: UploadTarget;
  readonly resolve: (report: FitReport) => void;
  readonly reject: (error: TaskError) => void;
  /** Set when an upload stream for this task is accepted: a task takes exactly one upload. */
  uploading?: boolean;
  upload?: UploadSink;
}

export interface PendingEvaluate {
  readonly kind: 'evaluate';
  readonly round: number;
  readonly resolve: (report: EvaluateReport) => void;
  readonly reject: (error: TaskError) => void;
}

export type Pending = PendingUpload | PendingEvaluate;

/** The tasks one session sent and still awaits an answer to, by task id; each is settled once. */
export class OpenTasks {
  private readonly tasks = new Map<string, Pending>();

  set(taskId: string, task: Pending): void {
    this.tasks.set(taskId, task);
  }

  get(taskId: string): Pending | undefined {
    return this.tasks.get(taskId);
  }

  ids(): string[] {
    return [...this.tasks.keys()];
  }

  /** Ends a task with its report or its error (aborting an upload in progress); a settled task is forgotten. */
  settle(taskId: string, outcome: TaskError | FitReport | EvaluateReport): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    this.tasks.delete(taskId);
    if (outcome instanceof TaskError) {
      if (task.kind !== 'evaluate') task.upload?.abort(outcome.message);
      task.reject(outcome);
    } else if (task.kind !== 'evaluate') {
      task.resolve(outcome as FitReport);
    } else {
      task.resolve(outcome as EvaluateReport);
    }
  }
}

import type { FailureReason } from './strategy.js';

/** A client task that did not produce a usable result, with the typed reason strategies see. */
export class TaskError extends Error {
  override readonly name = 'TaskError';
  constructor(readonly reason: FailureReason, message: string) {
    super(message);
  }
}

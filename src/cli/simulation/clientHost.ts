import type { Weights } from '../../protocol/tensors.js';

/**
 * Where a simulation's virtual clients run: in the coordinator's thread, or spread over worker threads.
 * Either way they reach the coordinator over real sockets, so the run does not depend on the choice.
 */
export interface ClientHost {
  /** A line for the progress output: how many threads host how many clients. */
  readonly description: string;
  /** Rejects as soon as hosting fails (a client that cannot be built, a worker thread that dies); never resolves. */
  readonly failure: Promise<never>;
  /**
   * After the run: gives the clients up to `graceMs` to see its end, stops them all, and returns the last
   * global model the simulation's first client holds (under CKKS only the clients can decrypt it).
   */
  finish(graceMs: number): Promise<Weights | undefined>;
  /** Why clients were refused for good so far, one line each (filled as they end; complete after finish). */
  refused(): readonly string[];
  /** Stops every client at once (a failed run). Safe to call more than once, and after finish. */
  close(): Promise<void>;
}

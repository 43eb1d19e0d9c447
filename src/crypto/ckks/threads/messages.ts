import type { CkksParameters } from '../ckksParameters.js';

/** What the main thread asks a CKKS worker (ckksWorker.ts); `id` pairs each request with its reply. */
export type WorkerRequest =
  /** First message: the run's secret key (the worker builds its own SEAL context and client side). */
  | { readonly op: 'init'; readonly id: number; readonly parameters: CkksParameters; readonly secretKey: Uint8Array }
  /** Make masks in the background until `count` are ready (requests go first); replies when done or stopped. */
  | { readonly op: 'masks'; readonly id: number; readonly count: number }
  /** Encrypt weight x values (one or two ciphertexts' worth: a pair is encrypted at once) with ready masks if there are. */
  | { readonly op: 'encrypt'; readonly id: number; readonly values: Float32Array; readonly weight: number }
  /** Decrypt one or two consecutive ciphertexts of a sum into `length` values (grid-rounded, divided by totalWeight). */
  | { readonly op: 'decrypt'; readonly id: number; readonly ciphertexts: readonly Uint8Array[]; readonly totalWeight: number; readonly length: number };

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly ciphertexts?: readonly Uint8Array[]; readonly clipped?: number; readonly masked?: number; readonly values?: Float32Array; readonly masks?: number }
  | { readonly id: number; readonly ok: false; readonly error: string };

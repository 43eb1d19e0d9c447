import { TASK_EXTRAS } from './taskExtras.js';

/**
 * Update compression, chosen per experiment (`compression:`), for plaintext uploads:
 * - `int8`: every value stochastically rounded to one of 255 levels of its block's scale (QSGD-style, Alistarh
 *   et al. 2017): 1 byte a value plus 4 bytes a block of 512, about 3.97x fewer bytes than float32.
 * - `topk`: the `fraction` of values largest in magnitude, as (index, value) pairs of 8 bytes (Aji and Heafield
 *   2017; Lin et al. 2018): 1 / (2 fraction) fewer bytes, 5x at 0.1.
 * int8 with `deflate: true` also deflates its layout (raw DEFLATE, node:zlib): lossless, the same model to the bit, and
 * about 1.5x fewer bytes again on an MNIST 2NN update (most levels are small: about 5.8 bits of entropy, not 8).
 * Both keep what they drop on the client and add it to the next round's update (error feedback, Seide et al.
 * 2014; Karimireddy et al. 2019), so nothing is lost, only delayed.
 */
export type CompressionOptions = { readonly method: 'int8'; readonly deflate?: boolean } | { readonly method: 'topk'; readonly fraction: number };
export type CompressionMethod = CompressionOptions['method'];

/** Values per int8 block: each block carries its own float32 scale (4 bytes per 512 values: 0.8 % overhead). */
export const INT8_BLOCK = 512;
/** Above this fraction a top-k upload (8 bytes a kept value) would be larger than the dense float32 one. */
export const MAX_TOPK_FRACTION = 0.5;

/** Why these options cannot run, naming the setting to fix, or undefined when they can. */
export function compressionRefusal(options: CompressionOptions): string | undefined {
  const method: unknown = options.method;
  if (method === 'int8') {
    const { deflate } = options as { deflate?: unknown };
    return deflate === undefined || typeof deflate === 'boolean' ? undefined : `compression.deflate must be true or false, got ${String(deflate)}`;
  }
  if (method !== 'topk') return `compression.method must be int8 or topk, got ${String(method)}`;
  const { fraction } = options as { fraction: unknown };
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= MAX_TOPK_FRACTION)) {
    return `compression.fraction (the share of values a top-k upload keeps) must be in (0, ${MAX_TOPK_FRACTION}], got ${String(fraction)}: above ${MAX_TOPK_FRACTION} its 8 bytes a value outweigh the dense float32 upload`;
  }
  return undefined;
}

/** k, the values a top-k upload of `total` values keeps: at least one. */
export function topKCount(fraction: number, total: number): number {
  return Math.max(1, Math.min(total, Math.ceil(fraction * total)));
}

/** What a fit task tells the client about compression: the method, its fraction, and the seed of its rounding coins. */
export interface CompressionTask {
  readonly options: CompressionOptions;
  /** Seeds the stochastic rounding (int8), so the same run seed gives the same uploads. */
  readonly seed: number;
}

/** The task extras that ask for compression (the coordinator writes them into every plain fit task). */
export function compressionExtras(options: CompressionOptions, seed: number): Record<string, number | string | boolean> {
  return {
    [TASK_EXTRAS.compression]: options.method,
    ...(options.method === 'topk' ? { [TASK_EXTRAS.compressionFraction]: options.fraction } : {}),
    ...(options.method === 'int8' && options.deflate ? { [TASK_EXTRAS.compressionDeflate]: true } : {}),
    [TASK_EXTRAS.compressionSeed]: seed,
  };
}

/** The compression a fit task asks for, or undefined for none; throws naming what is malformed. */
export function readCompressionTask(extra: Readonly<Record<string, unknown>> | undefined): CompressionTask | undefined {
  const method = extra?.[TASK_EXTRAS.compression];
  if (method === undefined) return undefined;
  const deflate = extra?.[TASK_EXTRAS.compressionDeflate];
  const options = (method === 'topk' ? { method, fraction: extra?.[TASK_EXTRAS.compressionFraction] } : { method, ...(deflate === undefined ? {} : { deflate }) }) as CompressionOptions;
  const refusal = compressionRefusal(options);
  if (refusal) throw new Error(`the task's ${refusal}`);
  const seed = extra?.[TASK_EXTRAS.compressionSeed];
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new Error(`the task's compression seed must be an integer, got ${String(seed)}`);
  return { options, seed };
}

import { parserRefusal } from './guardedParser.js';
import { describeZodError, streamMetaSchema, type StreamMeta } from './messages.js';

/** What a receiver checks a stream header against. */
export interface HeaderLimits {
  readonly maxTransferBytes: number;
  readonly maxOpenStreams: number;
  /** Ids of the streams open now (a header may not reuse one). */
  readonly open: ReadonlyMap<string, unknown>;
}

export type ReadHeader =
  | { readonly ok: true; readonly id: string; readonly meta: StreamMeta; readonly totalBytes: number }
  /** `about` is what the header named (its meta), so a refusal can tell the task it concerns. */
  | { readonly ok: false; readonly problem: string; readonly about?: unknown };

/**
 * Validates an inbound stream header (stepped or whole): id, announced size, the receiver's limits and the
 * meta's schema, in that order, so a header that breaks a limit is refused before its meta is parsed.
 */
export function readStreamHeader(header: unknown, limits: HeaderLimits): ReadHeader {
  const unparsed = parserRefusal(header);
  if (unparsed) return { ok: false, problem: `malformed stream header: ${unparsed}` };
  const h = (typeof header === 'object' && header !== null ? header : {}) as { id?: unknown; meta?: unknown; totalBytes?: unknown };
  if (typeof h.id !== 'string' || h.id.length === 0 || h.id.length > 64 || limits.open.has(h.id)) {
    return { ok: false, problem: 'malformed stream header: missing, duplicate or overlong id', about: h.meta };
  }
  if (typeof h.totalBytes !== 'number' || !Number.isSafeInteger(h.totalBytes) || h.totalBytes < 0) {
    return { ok: false, problem: 'malformed stream header: totalBytes must be a non-negative integer', about: h.meta };
  }
  if (h.totalBytes > limits.maxTransferBytes) {
    return { ok: false, problem: `stream of ${h.totalBytes} bytes exceeds the limit of ${limits.maxTransferBytes} bytes`, about: h.meta };
  }
  if (limits.open.size >= limits.maxOpenStreams) return { ok: false, problem: `too many open streams (limit ${limits.maxOpenStreams})`, about: h.meta };
  const meta = streamMetaSchema.safeParse(h.meta);
  if (!meta.success) return { ok: false, problem: `malformed stream header: ${describeZodError(meta.error)}`, about: h.meta };
  return { ok: true, id: h.id, meta: meta.data, totalBytes: h.totalBytes };
}

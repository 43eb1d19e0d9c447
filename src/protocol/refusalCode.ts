/**
 * Machine-readable reasons a refusal may carry beside its text, so the other side can act on it rather than
 * parse a message meant for people.
 * - `payload-not-held`: a task named a payload (by SHA-256) instead of carrying it, and this side does not hold
 *   those bytes; the sender may send the task again with the bytes.
 */
export type RefusalCode = 'payload-not-held';

const CODES: readonly RefusalCode[] = ['payload-not-held'];

export function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === 'string' && (CODES as readonly string[]).includes(value);
}

/** Thrown by a receiver asked to reuse a payload it does not hold: the refusal says so in its code. */
export class PayloadNotHeldError extends Error {
  override readonly name = 'PayloadNotHeldError';
  readonly code = 'payload-not-held' satisfies RefusalCode;
}

/** The code an error carries, if it carries one of the protocol's. */
export function refusalCodeOf(error: unknown): RefusalCode | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return isRefusalCode(code) ? code : undefined;
}

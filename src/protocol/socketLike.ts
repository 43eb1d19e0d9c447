import { isRefusalCode, type RefusalCode } from './refusalCode.js';

/**
 * The slice of a socket.io socket (server- or client-side) that the transport uses. Both sides' sockets
 * satisfy it; nothing above the transport touches a socket directly.
 */
export interface SocketLike {
  readonly connected: boolean;
  emit(event: string, ...args: unknown[]): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  disconnect(close?: boolean): unknown;
}

/** Reply carried by every socket.io acknowledgement in this protocol; a refusal may carry a code to act on. */
export type Ack = { ok: true } | { ok: false; error: string; code?: RefusalCode };

export function isAck(value: unknown): value is Ack {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; error?: unknown; code?: unknown };
  return v.ok === true || (v.ok === false && typeof v.error === 'string' && (v.code === undefined || isRefusalCode(v.code)));
}

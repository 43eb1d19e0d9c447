import type { ClientMode } from './clientMode.js';
import { ckksClientMode, type CkksClientContext } from './ckks/client.js';
import { plainClientMode } from './plain/client.js';
import { secaggPlusClientMode } from './secaggplus/client.js';

/**
 * A node's client halves, in the order they are asked: a secure mode claims the downloads, messages and fit
 * tasks that are its own; plain takes the rest.
 */
export function clientModes(context: CkksClientContext): ClientMode[] {
  return [ckksClientMode(context), secaggPlusClientMode(context), plainClientMode(context.chunkBytes)];
}

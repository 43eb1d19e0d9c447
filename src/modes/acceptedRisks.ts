import { AccessList } from '../coordinator/accessList.js';
import { RunError, type CoordinatorOptions } from '../coordinator/coordinatorOptions.js';
import { isLoopbackHost } from '../protocol/loopback.js';
import type { ModeDefinition } from './mode.js';

/**
 * A secure mode within another machine's reach with open access (anyone who proves a key joins and receives
 * the mode's keys) or without TLS (metadata and ciphertexts in the clear on the network) is refused unless the
 * operator accepts the risk. Loopback (simulations, tests) is exempt: only this machine's processes connect.
 */
export function refuseUnacceptedRisks(mode: ModeDefinition, options: CoordinatorOptions): void {
  const host = options.host ?? '127.0.0.1';
  if (!mode.protectsUpdates || isLoopbackHost(host)) return;
  const accepted = options.acceptRisks ?? [];
  if ((options.access ?? AccessList.open()).mode === 'open' && !accepted.includes('open-access')) {
    throw new RunError(`secureAggregation: ${mode.name} with open access on ${host}: anyone who proves a key could join and receive the keys; list access.peers, or accept it with coordinator.acceptRisks: [open-access]`);
  }
  if (!options.tls && !accepted.includes('plain-http')) {
    throw new RunError(`secureAggregation: ${mode.name} over plain http on ${host}: metadata and ciphertexts would travel unencrypted; configure tls, or accept it with coordinator.acceptRisks: [plain-http]`);
  }
}

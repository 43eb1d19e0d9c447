import type { Logger } from 'pino';
import type { ClientHost } from './clientHost.js';
import type { ClientEvent } from '../../client/clientNode.js';
import { refusals, settleClients, startVirtualClients, type FederationSettings, type VirtualClient } from './virtualClients.js';

/** Every virtual client in this thread, beside the coordinator: one tfjs, one core. */
export async function hostInProcess(settings: FederationSettings, clients: readonly VirtualClient[], logger: Logger, onEvent?: (event: ClientEvent, client: string) => void, place = "the coordinator's thread"): Promise<ClientHost> {
  const running = await startVirtualClients(settings, clients, logger, onEvent);
  const refused: string[] = [];
  const refusalsKnown = refusals(running.handles, clients).then((lines) => void refused.push(...lines));
  let stopped: Promise<void> | undefined;
  const close = () => (stopped ??= running.stop());
  return {
    description: `${clients.length} clients in ${place}`,
    // Building a client throws above, before the run; nothing fails later that the coordinator does not see.
    failure: new Promise<never>(() => undefined),
    finish: async (graceMs) => {
      await settleClients(running.handles, graceMs);
      const model = running.handles[0]?.globalWeights();
      await close();
      await refusalsKnown;
      return model;
    },
    refused: () => refused,
    close,
  };
}

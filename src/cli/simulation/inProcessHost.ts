import type { Logger } from 'pino';
import type { ClientHost } from './clientHost.js';
import { settleClients, startVirtualClients, type FederationSettings, type VirtualClient } from './virtualClients.js';

/** Every virtual client in this thread, beside the coordinator: one tfjs, one core. */
export async function hostInProcess(settings: FederationSettings, clients: readonly VirtualClient[], logger: Logger): Promise<ClientHost> {
  const running = await startVirtualClients(settings, clients, logger);
  let stopped: Promise<void> | undefined;
  const close = () => (stopped ??= running.stop());
  return {
    description: `${clients.length} clients in the coordinator's thread`,
    // Building a client throws above, before the run; nothing fails later that the coordinator does not see.
    failure: new Promise<never>(() => undefined),
    finish: async (graceMs) => {
      await settleClients(running.handles, graceMs);
      const model = running.handles[0]?.globalWeights();
      await close();
      return model;
    },
    close,
  };
}

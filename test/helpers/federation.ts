import { startClient, type ClientHandle, type ClientOptions } from '../../src/client/clientNode.js';
import { Coordinator, type CoordinatorOptions } from '../../src/coordinator/coordinator.js';
import type { Trainer } from '../../src/client/trainer.js';

/** Starts a coordinator and clients on loopback, and tears everything down after the test. */
export class TestFederation {
  private readonly cleanups: (() => Promise<void>)[] = [];

  async coordinator(options: CoordinatorOptions): Promise<Coordinator> {
    const c = await Coordinator.start({ waitForClientsMs: 15_000, ...options });
    this.cleanups.push(() => c.close());
    return c;
  }

  client(url: string, name: string, trainer: Trainer, extra: Partial<ClientOptions> = {}): ClientHandle {
    const handle = startClient({ url, name, trainer, reconnectDelayMs: 100, reconnectDelayMaxMs: 500, ...extra });
    // Let a finished run's last replies drain before stopping.
    this.cleanups.push(async () => {
      await Promise.race([handle.done.catch(() => undefined), new Promise((r) => setTimeout(r, 200))]);
      await handle.stop();
    });
    return handle;
  }

  async close(): Promise<void> {
    while (this.cleanups.length) await this.cleanups.pop()!();
  }
}

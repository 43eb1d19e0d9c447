import type { ClientHandle } from '../../client/clientNode.js';
import type { Weights } from '../../protocol/tensors.js';

/**
 * Starts a process's virtual clients a few at a time: a client takes a joining slot when it connects and gives
 * it back once the coordinator welcomed or refused it (or after `slotMs`, so that a stuck one blocks nobody).
 * Thousands of sockets opened at once from one thread would each wait behind all the others' handshakes
 * and pass the coordinator's handshake deadline, then come back only after their backoff.
 */
export function pacedClients(starts: readonly ((joined: () => void) => ClientHandle)[], maxJoining: number, slotMs = 10_000): ClientHandle[] {
  const handles = starts.map(() => new DeferredClient());
  let free = maxJoining;
  const waiting: (() => void)[] = [];
  const take = () => (free > 0 ? (free--, Promise.resolve()) : new Promise<void>((r) => waiting.push(r)));
  const give = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  void (async () => {
    for (let i = 0; i < starts.length; i++) {
      await take();
      const handle = handles[i]!;
      if (handle.stopped) {
        give();
        continue;
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        clearTimeout(timer);
        give();
      };
      const timer = setTimeout(release, slotMs);
      timer.unref();
      const real = starts[i]!(release);
      real.done.then(release, release);
      handle.bind(real);
    }
  })();
  return handles;
}

/** A client handle before its client is started: stopping it then means it never starts. */
class DeferredClient implements ClientHandle {
  readonly done: Promise<string>;
  stopped = false;
  private real: ClientHandle | undefined;
  private settle: { resolve: (reason: string) => void; reject: (e: unknown) => void } = { resolve: () => undefined, reject: () => undefined };

  constructor() {
    this.done = new Promise<string>((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined);
  }

  bind(real: ClientHandle): void {
    this.real = real;
    real.done.then(this.settle.resolve, this.settle.reject);
  }

  globalWeights(): Weights | undefined {
    return this.real?.globalWeights();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.real) await this.real.stop();
    else this.settle.resolve('stopped');
  }
}

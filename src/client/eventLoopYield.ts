/**
 * A check to call between training steps: it yields to the event loop once `intervalMs` have passed since the last
 * yield, so sockets (heartbeats, uploads, other clients of a simulation in the same thread) are served during long
 * rounds whatever a step costs (a tabular step takes microseconds, a CNN step on a loaded core a second).
 */
export function eventLoopYielder(intervalMs = 25): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < intervalMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

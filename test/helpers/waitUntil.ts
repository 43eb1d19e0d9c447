/**
 * Polls `condition` every 10 ms until it holds; rejects naming `what` once `deadlineMs` has passed. The
 * deadline only bounds a stall (tests assert on the condition, never on how long it took).
 */
export async function waitUntil(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`still waiting after ${deadlineMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

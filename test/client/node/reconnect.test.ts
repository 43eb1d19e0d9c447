import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeRetry, Reconnector, type Retry } from '../../../src/client/node/reconnect.js';

afterEach(() => void vi.useRealTimers());

function schedule(random: () => number) {
  const retries: Retry[] = [];
  let attempts = 0;
  const r = new Reconnector({ baseMs: 1_000, maxMs: 30_000, random, connect: () => void attempts++, onRetry: (x) => void retries.push(x) });
  return { r, retries, attempts: () => attempts };
}

describe('the reconnection schedule', () => {
  it('doubles from the base delay to the cap, with jitter in [0.5, 1.5), and starts over once welcomed', () => {
    vi.useFakeTimers();
    const middle = schedule(() => 0.5);
    for (let i = 0; i < 8; i++) middle.r.schedule('unreachable', 'connection refused');
    expect(middle.retries.map((x) => x.delayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    middle.r.reset();
    middle.r.schedule('disconnected', 'transport close');
    expect(middle.retries.at(-1)!.delayMs).toBe(1_000);
    const low = schedule(() => 0);
    low.r.schedule('unreachable', 'x');
    const high = schedule(() => 0.999);
    high.r.schedule('unreachable', 'x');
    expect([low.retries[0]!.delayMs, high.retries[0]!.delayMs]).toEqual([500, 1_499]);
    middle.r.stop();
    low.r.stop();
    high.r.stop();
  });

  it("waits at least a busy coordinator's advice, spread by up to 50 %, and connects once the delay is over", () => {
    vi.useFakeTimers();
    const s = schedule(() => 0.5);
    s.r.schedule('busy', 'too many handshakes in progress (limit 64)', 8_000);
    expect(s.retries[0]).toEqual({ cause: 'busy', reason: 'too many handshakes in progress (limit 64)', delayMs: 10_000 });
    vi.advanceTimersByTime(9_999);
    expect(s.attempts()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(s.attempts()).toBe(1);
    // A later schedule replaces a pending one; stop() cancels it for good.
    s.r.schedule('unreachable', 'x');
    s.r.schedule('unreachable', 'x');
    s.r.stop();
    vi.advanceTimersByTime(60_000);
    expect(s.attempts()).toBe(1);
    s.r.schedule('unreachable', 'x');
    expect(s.retries).toHaveLength(3);
  });

  it('words each retry for the log and the CLI', () => {
    const url = 'https://coordinator.example.org:8080';
    expect(describeRetry({ cause: 'busy', reason: 'too many handshakes in progress (limit 64)', delayMs: 8_000 }, url)).toBe('refused: busy; retrying in 8 s (too many handshakes in progress (limit 64))');
    expect(describeRetry({ cause: 'unreachable', reason: 'websocket error', delayMs: 1_460 }, url)).toBe(`waiting for ${url}; retrying in 1.5 s`);
    // Out of descriptors: the fix is on this machine, and the line says so instead of waiting for the coordinator.
    expect(describeRetry({ cause: 'unreachable', reason: 'connect EMFILE 127.0.0.1:8080 - Local (undefined:undefined)', delayMs: 30_000 }, url)).toBe(
      `cannot open a connection to ${url}: out of open files (connect EMFILE 127.0.0.1:8080 - Local (undefined:undefined)); retrying in 30 s: raise this process's open-file limit (ulimit -n) or run fewer clients in it`,
    );
    expect(describeRetry({ cause: 'disconnected', reason: 'transport close', delayMs: 29_600 }, url)).toBe('disconnected (transport close); reconnecting in 30 s');
  });
});

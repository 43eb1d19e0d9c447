import { describe, expect, it } from 'vitest';
import { ClientRegistry, WaitTimeoutError } from '../../src/coordinator/clientRegistry.js';

/** A wait that runs out names who is missing: in a 10,000-client simulation, the first ten and how many more. */
describe('ClientRegistry.waitFor', () => {
  it('names the first ten expected clients with no session and counts the rest', async () => {
    const expected = Array.from({ length: 25 }, (_, i) => `client-${String(i).padStart(2, '0')}`);
    const registry = new ClientRegistry(() => expected);
    const wait = registry.waitFor(25, 20);
    await expect(wait).rejects.toBeInstanceOf(WaitTimeoutError);
    await expect(registry.waitFor(25, 20)).rejects.toThrow(
      'only 0 of the 25 required clients connected within 0 s; not connected: client-00, client-01, client-02, client-03, client-04, client-05, client-06, client-07, client-08, client-09 (and 15 more)',
    );
  });

  it('says nothing of names when no allowlist names the clients', async () => {
    await expect(new ClientRegistry().waitFor(2, 20)).rejects.toThrow(/^only 0 of the 2 required clients connected within 0 s$/);
  });
});

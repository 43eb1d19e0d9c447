import { describe, expect, it } from 'vitest';
import type { MessageOf } from '../../../src/protocol/messages.js';
import { unmaskSum } from '../../../src/modes/secaggplus/unmasking.js';
import { ROUND, RUN, runUpToUpload, type AdversaryRound } from './harness.js';

// Robust reconstruction: a neighbour that reveals a false share is named, and the sum still unmasks from the
// true shares while t of them remain (the secrets are checked against what their owners signed).
const LENGTH = 20_000;
const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const updates = new Map(names.map((n, k) => [n, Uint32Array.from({ length: LENGTH }, (_, i) => (i * (k + 3)) % 1000)]));
/** g takes part in the key exchange but never uploads: its mask key must be rebuilt too. */
const survivors = names.filter((n) => n !== 'g');

type Reveal = MessageOf<'secagg-reveal'>['shares'];

function reveals(round: AdversaryRound): Map<string, Reveal> {
  const signatures = survivors.map((n) => ({ name: n, signature: round.honest.get(n)!.signSurvivors({ type: 'secagg-consistency', round: ROUND, survivors }, RUN).signature }));
  return new Map(survivors.map((n) => [n, round.honest.get(n)!.reveal({ type: 'secagg-unmask', round: ROUND, survivors, signatures }, RUN).shares]));
}

/** Flips a byte of `revealer`'s share of `owner`'s secret of `kind` (not its x-coordinate). */
function falsify(all: Map<string, Reveal>, revealer: string, owner: string, kind: 'self' | 'mask'): void {
  const shares = all.get(revealer)!.map((s) => {
    if (s.owner !== owner || s.kind !== kind) return s;
    const bytes = Buffer.from(s.share, 'base64');
    bytes[5] = bytes[5]! ^ 0x5a;
    return { ...s, share: bytes.toString('base64') };
  });
  all.set(revealer, shares);
}

async function unmask(round: AdversaryRound, all: Map<string, Reveal>, threshold: number) {
  const sum = new Uint32Array(LENGTH);
  for (const n of survivors) {
    const m = round.masked.get(n)!;
    for (let i = 0; i < LENGTH; i++) sum[i] = (sum[i]! + m[i]!) >>> 0;
  }
  const members = new Map([...round.memberKeys].map(([n, k]) => [n, { maskKey: k.maskKey, selfMaskCommitment: k.selfMaskCommitment }]));
  const outcome = await unmaskSum(sum, { runId: RUN, round: ROUND, threshold, members, graph: round.graph, shared: new Set(names), survivors, reveals: all });
  return { sum, outcome };
}

const expected = new Uint32Array(LENGTH);
for (const n of survivors) for (let i = 0; i < LENGTH; i++) expected[i] = (expected[i]! + updates.get(n)![i]!) >>> 0;

describe('a neighbour revealing a false share', () => {
  it('is named, and the survivors\' sum still comes out exact from the true shares', async () => {
    const round = await runUpToUpload(names, [], 6, 4, updates);
    const all = reveals(round);
    // b lies about a's self-mask seed, c about the mask key of g (who dropped before uploading).
    falsify(all, 'b', 'a', 'self');
    falsify(all, 'c', 'g', 'mask');
    const { sum, outcome } = await unmask(round, all, 4);
    expect(outcome.falseShares).toEqual([
      { revealer: 'b', owner: 'a', kind: 'self' },
      { revealer: 'c', owner: 'g', kind: 'mask' },
    ]);
    expect(Buffer.from(sum.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('with honest reveals nobody is named (the control)', async () => {
    const round = await runUpToUpload(names, [], 6, 4, updates);
    const { sum, outcome } = await unmask(round, reveals(round), 4);
    expect(outcome.falseShares).toEqual([]);
    expect(Buffer.from(sum.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('fails the round, naming the revealers, when fewer than t true shares are left', async () => {
    // t = 5 of a's 5 revealing neighbours: no spare share, so one false share leaves no true t-subset.
    const round = await runUpToUpload(names, [], 6, 5, updates);
    const all = reveals(round);
    falsify(all, 'd', 'a', 'self');
    await expect(unmask(round, all, 5)).rejects.toThrow(/no 5 of the 5 shares of a's self-mask seed reconstruct the seed it committed to .*b, c, d, e, f revealed them/);
  });
});

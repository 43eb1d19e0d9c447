import { describe, expect, it } from 'vitest';
import { pairSign, pairwiseMaskSeed } from '../../../src/crypto/secagg/pairwiseSeed.js';
import { recoverSecret } from '../../../src/crypto/secagg/shamir.js';
import { x25519PublicOf } from '../../../src/crypto/secagg/x25519.js';
import { applyStream } from '../../../src/modes/secaggplus/member.js';
import type { MessageOf } from '../../../src/protocol/messages.js';
import { ROUND, RUN, runUpToUpload, type AdversaryRound } from './harness.js';

const LENGTH = 4096;
/** The target's encoded update: what the adversary wants. */
const target = Uint32Array.from({ length: LENGTH }, (_, i) => (i * 2_654_435_761) >>> 0);
const updatesFor = (names: readonly string[]) => new Map(names.map((n) => [n, n === 'target' ? target : Uint32Array.from({ length: LENGTH }, (_, i) => i)]));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Runs the consistency and unmask steps for one honest member with a chosen set and signatures; the reveal, or the refusal. */
function askFor(round: AdversaryRound, name: string, survivors: readonly string[], signatures: () => { name: string; signature: string }[]): MessageOf<'secagg-reveal'>['shares'] {
  return round.honest.get(name)!.reveal({ type: 'secagg-unmask', round: ROUND, survivors: [...survivors], signatures: signatures() }, RUN).shares;
}

/**
 * What the coordinator and the colluders make of the target's masked update with every share they hold: the
 * self mask removed if t shares of its seed are in hand, each pairwise mask removed whose seed they can compute
 * (a colluder's own, or any if t shares of the target's mask key are in hand). Equal to the target's update only
 * if they removed every mask.
 */
async function attack(round: AdversaryRound, threshold: number, revealed: MessageOf<'secagg-reveal'>['shares'][]): Promise<{ recovered: Uint32Array; selfSeed: boolean; maskKey: boolean }> {
  const y = new Uint32Array(round.masked.get('target')!);
  const collect = (kind: 'self' | 'mask') => [...[...round.colluders.values()].flatMap((c) => (c.held.has('target') ? [c.held.get('target')![kind]] : [])), ...revealed.flatMap((r) => r.filter((s) => s.owner === 'target' && s.kind === kind).map((s) => b64(s.share)))];
  let selfSeed = false;
  const selfShares = collect('self');
  if (selfShares.length >= threshold) {
    applyStream(y, await recoverSecret(selfShares, threshold, 32), -1);
    selfSeed = true;
  }
  const maskShares = collect('mask');
  const maskSecret = maskShares.length >= threshold ? await recoverSecret(maskShares, threshold, 32) : undefined;
  const maskKey = maskSecret !== undefined && Buffer.from(x25519PublicOf(maskSecret)).equals(Buffer.from(round.memberKeys.get('target')!.maskKey));
  for (const peer of round.graph.get('target')!) {
    const colluder = round.colluders.get(peer);
    const pair = { runId: RUN, round: ROUND, a: 'target', b: peer };
    const seed = colluder ? pairwiseMaskSeed(colluder.mask.secretKey, round.memberKeys.get('target')!.maskKey, pair) : maskKey ? pairwiseMaskSeed(maskSecret!, round.memberKeys.get(peer)!.maskKey, pair) : undefined;
    if (seed) applyStream(y, seed, pairSign('target', peer) === 1 ? -1 : 1);
  }
  return { recovered: y, selfSeed, maskKey };
}

function matchingFraction(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

describe('SecAgg+ against the coordinator with colluding clients (a harness holding their keys and shares)', () => {
  // Seven clients, complete graph (degree 6), threshold 4; the coordinator plus t - 1 = 3 colluders.
  const honest = ['target', 'h1', 'h2', 'h3'];
  const colluders = ['c1', 'c2', 'c3'];
  const all = [...honest, ...colluders];

  it('t - 1 colluders told the target survived get its self-mask seed but not its mask key: its update stays hidden', async () => {
    const round = await runUpToUpload(honest, colluders, 6, 4, updatesFor(honest));
    const sigs = () => [...honest.map((n) => ({ name: n, signature: round.honest.get(n)!.signSurvivors({ type: 'secagg-consistency', round: ROUND, survivors: all }, RUN).signature })), ...colluders.map((c) => round.colluders.get(c)!.sign(all))];
    const signatures = sigs();
    const revealed = ['h1', 'h2', 'h3'].map((n) => askFor(round, n, all, () => signatures));
    // Now claim the target dropped, to get its mask-key shares too: every honest client refuses.
    for (const n of ['h1', 'h2', 'h3']) {
      expect(() => askFor(round, n, all.filter((x) => x !== 'target'), () => signatures)).toThrow(/other than the one this client signed/);
    }
    const outcome = await attack(round, 4, revealed);
    expect(outcome.selfSeed).toBe(true);
    expect(outcome.maskKey).toBe(false);
    expect(matchingFraction(outcome.recovered, target)).toBeLessThan(0.01);
  });

  it('t - 1 colluders told the target dropped get its mask key but not its self-mask seed; the target itself refuses the lie', async () => {
    const round = await runUpToUpload(honest, colluders, 6, 4, updatesFor(honest));
    const claimed = all.filter((x) => x !== 'target');
    expect(() => round.honest.get('target')!.signSurvivors({ type: 'secagg-consistency', round: ROUND, survivors: claimed }, RUN)).toThrow(/says this client dropped/);
    const signatures = [...['h1', 'h2', 'h3'].map((n) => ({ name: n, signature: round.honest.get(n)!.signSurvivors({ type: 'secagg-consistency', round: ROUND, survivors: claimed }, RUN).signature })), ...colluders.map((c) => round.colluders.get(c)!.sign(claimed))];
    const revealed = ['h1', 'h2', 'h3'].map((n) => askFor(round, n, claimed, () => signatures));
    const outcome = await attack(round, 4, revealed);
    expect(outcome.maskKey).toBe(true);
    expect(outcome.selfSeed).toBe(false);
    expect(matchingFraction(outcome.recovered, target)).toBeLessThan(0.01);
  });

  it('negative control: with t colluders the same attack recovers the update exactly (the threshold is what stops it)', async () => {
    const fewer = ['target', 'h1', 'h2'];
    const round = await runUpToUpload(fewer, ['c1', 'c2', 'c3', 'c4'], 6, 4, updatesFor(fewer));
    const outcome = await attack(round, 4, []);
    expect(outcome.selfSeed && outcome.maskKey).toBe(true);
    expect(outcome.recovered).toEqual(target);
  });
});

describe('SecAgg+ against a coordinator that tells clients different survivor sets', () => {
  // Seven clients, complete graph, t = 5, two colluders: 2t > n + c, Bonawitz et al.'s bound for an active coordinator.
  const honest = ['target', 'h1', 'h2', 'h3', 'h4'];
  const colluders = ['c1', 'c2'];
  const all = [...honest, ...colluders];
  const withoutTarget = all.filter((x) => x !== 'target');

  it('the clients told the target dropped reveal nothing, and the shares the others reveal do not expose it', async () => {
    const round = await runUpToUpload(honest, colluders, 6, 5, updatesFor(honest));
    const sign = (n: string, set: string[]) => ({ name: n, signature: round.honest.get(n)!.signSurvivors({ type: 'secagg-consistency', round: ROUND, survivors: set }, RUN).signature });
    const onA = [...['target', 'h1', 'h2'].map((n) => sign(n, all)), ...colluders.map((c) => round.colluders.get(c)!.sign(all))];
    const onB = [...['h3', 'h4'].map((n) => sign(n, withoutTarget)), ...colluders.map((c) => round.colluders.get(c)!.sign(withoutTarget))];
    // Only t - 1 signatures cover B: h3 and h4 refuse.
    for (const n of ['h3', 'h4']) expect(() => askFor(round, n, withoutTarget, () => onB)).toThrow(/fewer than the threshold/);
    // Padding B's list with signatures made over A is caught.
    for (const n of ['h3', 'h4']) expect(() => askFor(round, n, withoutTarget, () => [...onB, ...onA.filter((s) => s.name === 'h1')])).toThrow(/did not sign this survivor set/);
    // Asking h3 for A instead, after it signed B, is refused.
    expect(() => askFor(round, 'h3', all, () => onA)).toThrow(/other than the one this client signed/);
    const revealed = ['h1', 'h2'].map((n) => askFor(round, n, all, () => onA));
    expect(revealed.flat().some((s) => s.owner === 'target' && s.kind === 'mask')).toBe(false);
    const outcome = await attack(round, 5, revealed);
    expect(outcome.maskKey).toBe(false);
    expect(matchingFraction(outcome.recovered, target)).toBeLessThan(0.01);
  });

  it('a survivor set below the threshold is refused at the consistency round', async () => {
    const round = await runUpToUpload(honest, colluders, 6, 5, updatesFor(honest));
    expect(() => round.honest.get('h1')!.signSurvivors({ type: 'secagg-consistency', round: ROUND, survivors: ['h1', 'h2', 'c1', 'c2'] }, RUN)).toThrow(/fewer than the threshold 5/);
  });
});

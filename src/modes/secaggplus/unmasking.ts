import { createHash, timingSafeEqual } from 'node:crypto';
import { pairSign, pairwiseMaskSeed } from '../../crypto/secagg/pairwiseSeed.js';
import { recoverChecked, type HeldShare } from '../../crypto/secagg/checkedRecovery.js';
import { x25519PublicOf } from '../../crypto/secagg/x25519.js';
import type { MessageOf } from '../../protocol/messages.js';
import { applyStream } from './member.js';
import { fromBase64 } from './wire.js';

/** What the coordinator knows of a member: the round keys it signed. */
export interface MemberKeys {
  readonly maskKey: Uint8Array;
  readonly selfMaskCommitment: Uint8Array;
}

export interface UnmaskInputs {
  readonly runId: string;
  readonly round: number;
  readonly threshold: number;
  readonly members: ReadonlyMap<string, MemberKeys>;
  readonly graph: ReadonlyMap<string, readonly string[]>;
  /** U2: the members whose share boxes were forwarded (every neighbour of theirs that uploaded masked with them). */
  readonly shared: ReadonlySet<string>;
  /** U3: the members whose masked update is in the sum. */
  readonly survivors: readonly string[];
  /** The reveals, by the client that sent them. */
  readonly reveals: ReadonlyMap<string, MessageOf<'secagg-reveal'>['shares']>;
}

export interface UnmaskOutcome {
  readonly selfMasksRemoved: number;
  readonly droppedMaskKeys: number;
  readonly pairMasksRemoved: number;
  /** Revealers whose share of an owner's secret lay off the polynomial of the secret the owner committed to. */
  readonly falseShares: readonly FalseShare[];
}

export interface FalseShare {
  readonly revealer: string;
  readonly owner: string;
  readonly kind: 'self' | 'mask';
}

/** The shares of `owner`'s secret of `kind` that its neighbours revealed. */
function sharesOf(inputs: UnmaskInputs, owner: string, kind: 'self' | 'mask'): HeldShare[] {
  const neighbours = inputs.graph.get(owner) ?? [];
  const out: HeldShare[] = [];
  for (const [revealer, shares] of inputs.reveals) {
    if (!neighbours.includes(revealer)) continue;
    const found = shares.find((s) => s.owner === owner && s.kind === kind);
    if (found) out.push({ holder: revealer, share: fromBase64(found.share) });
  }
  return out;
}

/**
 * The owner's secret from its neighbours' shares, checked against what the owner signed; false shares are
 * stepped around (when t true ones remain) and their revealers named in `falseShares`.
 */
async function reconstruct(inputs: UnmaskInputs, owner: string, kind: 'self' | 'mask', isSecret: (secret: Uint8Array) => boolean, falseShares: FalseShare[]): Promise<Uint8Array> {
  const shares = sharesOf(inputs, owner, kind);
  if (shares.length < inputs.threshold) {
    const degree = inputs.graph.get(owner)?.length ?? 0;
    throw new Error(
      `cannot unmask round ${inputs.round}: ${shares.length} shares of ${owner}'s ${kind === 'self' ? 'self-mask seed' : 'mask key'} arrived, the threshold is ${inputs.threshold}. ` +
        dropoutAdvice(inputs.members.size, inputs.reveals.size, degree, inputs.threshold),
    );
  }
  const recovered = await recoverChecked(shares, inputs.threshold, 32, isSecret);
  const what = kind === 'self' ? 'self-mask seed' : 'mask key';
  if (!recovered) {
    throw new Error(`cannot unmask round ${inputs.round}: no ${inputs.threshold} of the ${shares.length} shares of ${owner}'s ${what} reconstruct the ${kind === 'self' ? 'seed it committed to' : 'key it signed'} (more false shares than the spare ones: ${shares.map((s) => s.holder).join(', ')} revealed them)`);
  }
  for (const revealer of recovered.falseHolders) falseShares.push({ revealer, owner, kind });
  return recovered.secret;
}

/**
 * What to change when too few neighbours were left to reveal: every neighbourhood must keep t revealers, and
 * t must stay above half of it (Bonawitz et al. 2017, section 6). With r of n members revealing, a graph of
 * degree k leaves each neighbourhood at least (r - 1) - (n - 1 - k) revealers, so the densest graph the options
 * allow (k the largest even number below n) recovers with any t from floor(k / 2) + 1 up to that bound.
 */
export function dropoutAdvice(members: number, revealers: number, degree: number, threshold: number): string {
  const situation = `${revealers} of the ${members} members revealed shares (${members - revealers} dropped or did not answer by the unmask step); each client's ${degree} neighbours must keep ${threshold} revealers.`;
  const densest = Math.min(254, members % 2 === 0 ? members - 2 : members - 1);
  const lowest = Math.floor(densest / 2) + 1;
  const highest = revealers - 1 - (members - 1 - densest);
  if (lowest > highest) {
    return `${situation} With half or more of a neighbourhood gone no threshold works (it must stay above half the neighbours, or one client's two secrets could both be rebuilt): fewer clients must drop before the unmask step.`;
  }
  const range = lowest === highest ? `${lowest}` : `from ${lowest} to ${highest}`;
  return `${situation} To survive this many dropouts set secaggplus.neighbours: ${densest} and secaggplus.threshold ${range}; a sparser graph needs a threshold nearer half its neighbours.`;
}

/** Lets sockets be served between two mask expansions: unmasking 100 clients of 1M values takes seconds. */
const breather = () => new Promise<void>((resolve) => setImmediate(resolve));

function matches(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Strips the masks from `sum` in place (Bonawitz et al. 2017, round 4): each survivor's self mask from its
 * reconstructed seed, and for each member that shared keys but never uploaded, the pairwise masks its
 * uploading neighbours applied toward it, from its reconstructed mask key. The pairwise masks between two
 * survivors cancel in the sum by themselves. Each mask is expanded a chunk at a time: O(model) memory. A
 * reconstructed secret is checked against what its owner signed (its commitment, its public key).
 */
export async function unmaskSum(sum: Uint32Array, inputs: UnmaskInputs): Promise<UnmaskOutcome> {
  const { runId, round } = inputs;
  const alive = new Set(inputs.survivors);
  let pairMasksRemoved = 0;
  let droppedMaskKeys = 0;
  const falseShares: FalseShare[] = [];
  for (const v of inputs.survivors) {
    const commitment = inputs.members.get(v)!.selfMaskCommitment;
    const seed = await reconstruct(inputs, v, 'self', (s) => matches(new Uint8Array(createHash('sha256').update(s).digest()), commitment), falseShares);
    applyStream(sum, seed, -1);
    seed.fill(0);
    await breather();
  }
  for (const v of inputs.shared) {
    if (alive.has(v)) continue;
    const maskers = (inputs.graph.get(v) ?? []).filter((u) => alive.has(u));
    if (maskers.length === 0) continue;
    const maskKey = inputs.members.get(v)!.maskKey;
    const secret = await reconstruct(inputs, v, 'mask', (s) => matches(x25519PublicOf(s), maskKey), falseShares);
    droppedMaskKeys++;
    for (const u of maskers) {
      const seed = pairwiseMaskSeed(secret, inputs.members.get(u)!.maskKey, { runId, round, a: u, b: v });
      applyStream(sum, seed, pairSign(u, v) === 1 ? -1 : 1);
      seed.fill(0);
      pairMasksRemoved++;
      await breather();
    }
    secret.fill(0);
  }
  return { selfMasksRemoved: inputs.survivors.length, droppedMaskKeys, pairMasksRemoved, falseShares };
}

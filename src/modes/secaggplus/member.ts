import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Roster } from '../../client/security/roster.js';
import type { SecAggPlusFloors } from '../../client/security/securityPolicy.js';
import type { Identity } from '../../crypto/identity.js';
import { addMask, MaskStream } from '../../crypto/secagg/maskStream.js';
import { graphSeed, neighbourGraph } from '../../crypto/secagg/neighbourGraph.js';
import { pairSign, pairwiseMaskSeed } from '../../crypto/secagg/pairwiseSeed.js';
import { signRoundKeys, signSurvivors, verifyRoundKeys, verifySurvivors } from '../../crypto/secagg/roundKeys.js';
import { shareSecret } from '../../crypto/secagg/shamir.js';
import { openShare, sealShare } from '../../crypto/secagg/shareBox.js';
import { generateX25519, type X25519KeyPair } from '../../crypto/secagg/x25519.js';
import type { MessageOf } from '../../protocol/messages.js';
import { canonicalSet, effectiveDegree, fromBase64, thresholdRefusal, toBase64 } from './wire.js';

/** A cohort member as this client accepted it: identity from the roster, round keys under its signature. */
interface Member {
  readonly identityKey: Uint8Array;
  readonly encryptionKey: Uint8Array;
  readonly maskKey: Uint8Array;
}

/** The two shares a neighbour gave this client: of its self-mask seed and of its mask key (33 bytes each). */
interface HeldShares {
  readonly self: Uint8Array;
  readonly mask: Uint8Array;
}

interface RoundState {
  readonly runId: string;
  readonly round: number;
  readonly encryption: X25519KeyPair;
  readonly mask: X25519KeyPair;
  readonly selfSeed: Uint8Array;
  members?: ReadonlyMap<string, Member>;
  neighbours?: readonly string[];
  threshold?: number;
  held?: Map<string, HeldShares>;
  uploaded: boolean;
  /** The survivor set this client signed: the only one it will ever reveal shares for. */
  told?: readonly string[];
  /** What was revealed for each peer: never both kinds for one peer. */
  readonly revealed: Map<string, 'self' | 'mask'>;
}

/** Words of a mask expanded at a time: the client's extra memory while masking. */
const MASK_CHUNK = 65_536;
const SHARE_BYTES = 33;

/**
 * A client's part in a SecAgg+ round (Bonawitz et al. 2017; Bell et al. 2020), as a state machine over the
 * coordinator's messages: fresh round keys; the neighbours' keys checked against the roster and the graph
 * recomputed from its seed; Shamir shares of its self-mask seed and mask key sealed to each neighbour; the
 * masked update; the signed survivor set; and the reveal, which never gives both shares of one peer and never
 * answers for a survivor set other than the one signed, or one the survivors' signatures do not all cover.
 */
export class SecAggMember {
  private state: RoundState | undefined;

  constructor(
    readonly name: string,
    private readonly identity: Identity,
    private readonly roster?: Roster,
    private readonly floors: SecAggPlusFloors = {},
  ) {}

  /** Setup: fresh X25519 keys and self-mask seed for the round (the previous round's secrets are erased). */
  setup(message: MessageOf<'secagg-setup'>, runId: string): MessageOf<'secagg-round-keys'> {
    this.forget();
    const state: RoundState = { runId, round: message.round, encryption: generateX25519(), mask: generateX25519(), selfSeed: new Uint8Array(randomBytes(32)), uploaded: false, revealed: new Map() };
    this.state = state;
    const keys = { runId, round: message.round, name: this.name, encryptionKey: state.encryption.publicKey, maskKey: state.mask.publicKey, selfMaskCommitment: sha256(state.selfSeed) };
    return {
      type: 'secagg-round-keys',
      round: message.round,
      encryptionKey: toBase64(keys.encryptionKey),
      maskKey: toBase64(keys.maskKey),
      selfMaskCommitment: toBase64(keys.selfMaskCommitment),
      signature: toBase64(signRoundKeys(this.identity, keys)),
    };
  }

  /** Share keys: checks every member, derives the neighbours, and seals one box of shares per neighbour. */
  async shareKeys(message: MessageOf<'secagg-share-keys'>, runId: string): Promise<MessageOf<'secagg-shares'>> {
    const state = this.at(runId, message.round, 'share keys');
    if (state.members) throw new Error(`round ${message.round}: this client already shared its keys`);
    const degree = effectiveDegree(message.neighbours, message.members.length);
    const refusal = thresholdRefusal(message.threshold, degree) ?? floorRefusal(this.floors, message.threshold, degree, message.members.length);
    if (refusal) throw new Error(`round ${message.round}: ${refusal}`);
    if (this.roster && message.members.length > this.roster.size) throw new Error(`round ${message.round}: a cohort of ${message.members.length} is larger than this node's roster of ${this.roster.size}`);
    const members = new Map<string, Member>();
    for (const m of message.members) {
      if (members.has(m.name)) throw new Error(`round ${message.round}: the cohort names ${m.name} twice`);
      const offered = fromBase64(m.identityKey);
      const identityKey = this.roster ? this.roster.keyOf(m.name, offered) : offered;
      const keys = { runId, round: message.round, name: m.name, encryptionKey: fromBase64(m.encryptionKey), maskKey: fromBase64(m.maskKey), selfMaskCommitment: fromBase64(m.selfMaskCommitment) };
      if (!verifyRoundKeys(identityKey, fromBase64(m.signature), keys)) throw new Error(`round ${message.round}: the round keys offered for ${m.name} are not signed by its identity`);
      members.set(m.name, { identityKey, encryptionKey: keys.encryptionKey, maskKey: keys.maskKey });
    }
    const mine = members.get(this.name);
    if (!mine || !sameBytes(mine.encryptionKey, state.encryption.publicKey) || !sameBytes(mine.maskKey, state.mask.publicKey)) {
      throw new Error(`round ${message.round}: the cohort does not carry this client's own round keys`);
    }
    const seed = graphSeed(runId, message.round, message.neighbours, message.members.map((m) => ({ name: m.name, encryptionKey: fromBase64(m.encryptionKey), maskKey: fromBase64(m.maskKey) })));
    const neighbours = neighbourGraph([...members.keys()], degree, seed).get(this.name)!;
    const selfShares = await shareSecret(state.selfSeed, neighbours.length, message.threshold);
    const maskShares = await shareSecret(state.mask.secretKey, neighbours.length, message.threshold);
    const boxes = neighbours.map((recipient, i) => {
      const plaintext = new Uint8Array(2 * SHARE_BYTES);
      plaintext.set(selfShares[i]!, 0);
      plaintext.set(maskShares[i]!, SHARE_BYTES);
      const sealed = sealShare(plaintext, state.encryption.secretKey, members.get(recipient)!.encryptionKey, { runId, round: message.round, sender: this.name, recipient });
      plaintext.fill(0);
      return { recipient, nonce: toBase64(sealed.nonce), ciphertext: toBase64(sealed.ciphertext) };
    });
    state.members = members;
    state.neighbours = neighbours;
    state.threshold = message.threshold;
    return { type: 'secagg-shares', round: message.round, boxes };
  }

  /** Opens the boxes the neighbours sealed for this client; fewer than t of them would leave its update too exposed. */
  receiveShares(message: MessageOf<'secagg-forward'>, runId: string): void {
    const state = this.at(runId, message.round, 'receive shares');
    if (!state.members || !state.neighbours || state.held) throw new Error(`round ${message.round}: shares arrived out of order`);
    const held = new Map<string, HeldShares>();
    for (const box of message.boxes) {
      if (!state.neighbours.includes(box.sender)) throw new Error(`round ${message.round}: ${box.sender} is not this client's neighbour`);
      if (held.has(box.sender)) throw new Error(`round ${message.round}: two boxes from ${box.sender}`);
      const route = { runId, round: message.round, sender: box.sender, recipient: this.name };
      const plain = openShare({ nonce: fromBase64(box.nonce), ciphertext: fromBase64(box.ciphertext) }, state.encryption.secretKey, state.members.get(box.sender)!.encryptionKey, route);
      if (plain.length !== 2 * SHARE_BYTES) throw new Error(`round ${message.round}: the box from ${box.sender} holds ${plain.length} bytes, not two shares`);
      held.set(box.sender, { self: plain.slice(0, SHARE_BYTES), mask: plain.slice(SHARE_BYTES) });
    }
    if (held.size < state.threshold!) {
      throw new Error(`round ${message.round}: only ${held.size} of this client's neighbours shared keys, fewer than the threshold ${state.threshold}: its update would be masked by too few peers`);
    }
    state.held = held;
  }

  /**
   * The masked update: encodings + PRG(self seed) + the pairwise masks with every neighbour that shared keys
   * (added toward a peer whose name sorts later, subtracted toward one that sorts earlier). Once per round.
   */
  mask(encoded: Uint32Array, round: number, cohortSize: number): Uint32Array {
    const state = this.at(this.state?.runId ?? '', round, 'mask');
    const runId = state.runId;
    if (!state.held || !state.members) throw new Error(`round ${round}: no shares were exchanged for this round`);
    if (state.uploaded) throw new Error(`round ${round}: this client already sent its masked update`);
    if (cohortSize !== state.members.size) throw new Error(`round ${round}: the task's cohort of ${cohortSize} is not the ${state.members.size} members this client was shown`);
    const out = new Uint32Array(encoded);
    applyStream(out, state.selfSeed, 1);
    for (const peer of state.held.keys()) {
      const seed = pairwiseMaskSeed(state.mask.secretKey, state.members.get(peer)!.maskKey, { runId, round, a: this.name, b: peer });
      applyStream(out, seed, pairSign(this.name, peer));
      seed.fill(0);
    }
    state.uploaded = true;
    return out;
  }

  /** Consistency round: signs the survivor set, once; a different set later in the round is refused. */
  signSurvivors(message: MessageOf<'secagg-consistency'>, runId: string): MessageOf<'secagg-survivors-signed'> {
    const state = this.at(runId, message.round, 'consistency');
    const survivors = this.checkSurvivors(state, message.survivors);
    if (state.told && state.told.join('\n') !== survivors.join('\n')) throw new Error(`round ${message.round}: the coordinator already named another survivor set; refusing a second one`);
    state.told = survivors;
    return { type: 'secagg-survivors-signed', round: message.round, signature: toBase64(signSurvivors(this.identity, runId, message.round, survivors)) };
  }

  /** Unmask: after checking every survivor signed the set this client signed, one share per neighbour. */
  reveal(message: MessageOf<'secagg-unmask'>, runId: string): MessageOf<'secagg-reveal'> {
    const state = this.at(runId, message.round, 'unmask');
    const survivors = this.checkSurvivors(state, message.survivors);
    if (!state.told || state.told.join('\n') !== survivors.join('\n')) throw new Error(`round ${message.round}: asked to unmask for a survivor set other than the one this client signed`);
    const signers = new Set<string>();
    for (const s of message.signatures) {
      if (!survivors.includes(s.name) || signers.has(s.name)) throw new Error(`round ${message.round}: a survivor signature from ${s.name}, who is not a survivor or signed twice`);
      if (!verifySurvivors(state.members!.get(s.name)!.identityKey, fromBase64(s.signature), runId, message.round, survivors)) {
        throw new Error(`round ${message.round}: ${s.name} did not sign this survivor set: the coordinator told clients different sets`);
      }
      signers.add(s.name);
    }
    if (signers.size < state.threshold!) throw new Error(`round ${message.round}: only ${signers.size} survivors signed the set, fewer than the threshold ${state.threshold}`);
    const alive = new Set(survivors);
    const shares: MessageOf<'secagg-reveal'>['shares'][number][] = [];
    for (const [peer, held] of state.held!) {
      const kind = alive.has(peer) ? 'self' : 'mask';
      const before = state.revealed.get(peer);
      if (before && before !== kind) throw new Error(`round ${message.round}: already revealed ${peer}'s ${before} share; never both`);
      state.revealed.set(peer, kind);
      shares.push({ owner: peer, kind, share: toBase64(held[kind]) });
    }
    return { type: 'secagg-reveal', round: message.round, shares };
  }

  /** Erases the round's secrets. */
  forget(): void {
    const s = this.state;
    if (!s) return;
    s.encryption.secretKey.fill(0);
    s.mask.secretKey.fill(0);
    s.selfSeed.fill(0);
    for (const h of s.held?.values() ?? []) h.self.fill(0), h.mask.fill(0);
    this.state = undefined;
  }

  private at(runId: string, round: number, stage: string): RoundState {
    const s = this.state;
    if (!s || s.runId !== runId || s.round !== round) throw new Error(`${stage}: no SecAgg+ set-up for round ${round} of this run`);
    return s;
  }

  /** A survivor set must name members only, once each, include this client (it uploaded), and reach t. */
  private checkSurvivors(state: RoundState, named: readonly string[]): string[] {
    if (!state.uploaded || !state.members) throw new Error(`round ${state.round}: this client sent no masked update this round`);
    const survivors = canonicalSet(named);
    for (let i = 0; i < survivors.length; i++) {
      if (!state.members.has(survivors[i]!)) throw new Error(`round ${state.round}: survivor ${survivors[i]} is not a member of the round`);
      if (i > 0 && survivors[i] === survivors[i - 1]) throw new Error(`round ${state.round}: the survivor set names ${survivors[i]} twice`);
    }
    if (!survivors.includes(this.name)) throw new Error(`round ${state.round}: the coordinator says this client dropped, but it sent its masked update`);
    if (survivors.length < state.threshold!) throw new Error(`round ${state.round}: ${survivors.length} survivors, fewer than the threshold ${state.threshold}`);
    const { minCohort } = this.floors;
    if (minCohort !== undefined && survivors.length < minCohort) {
      throw new Error(`round ${state.round}: the sum would cover ${survivors.length} survivors, fewer than this node's security.secaggplus.minCohort ${minCohort}`);
    }
    return survivors;
  }
}

/** Why a round's k, t or cohort falls below this node's own floors (security.secaggplus), or undefined. */
function floorRefusal(floors: SecAggPlusFloors, threshold: number, degree: number, cohort: number): string | undefined {
  const { minThreshold, minNeighbours, minCohort } = floors;
  if (minThreshold !== undefined && threshold < minThreshold) return `the coordinator set the threshold to ${threshold}, below this node's security.secaggplus.minThreshold ${minThreshold}`;
  if (minNeighbours !== undefined && degree < minNeighbours) return `this client would mask with ${degree} neighbours, fewer than this node's security.secaggplus.minNeighbours ${minNeighbours}`;
  if (minCohort !== undefined && cohort < minCohort) return `the round has ${cohort} members, fewer than this node's security.secaggplus.minCohort ${minCohort}`;
  return undefined;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** target += sign x PRG(seed), expanded a chunk at a time. */
export function applyStream(target: Uint32Array, seed: Uint8Array, sign: 1 | -1): void {
  const stream = new MaskStream(seed);
  for (let at = 0; at < target.length; at += MASK_CHUNK) addMask(target, stream.next(Math.min(MASK_CHUNK, target.length - at)), sign, at);
}

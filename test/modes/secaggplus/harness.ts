import { createHash, randomBytes } from 'node:crypto';
import { generateIdentity, type Identity } from '../../../src/crypto/identity.js';
import { encodeBase64 } from '../../../src/crypto/keyEncoding.js';
import { graphSeed, neighbourGraph } from '../../../src/crypto/secagg/neighbourGraph.js';
import { signRoundKeys, signSurvivors } from '../../../src/crypto/secagg/roundKeys.js';
import { shareSecret } from '../../../src/crypto/secagg/shamir.js';
import { openShare, sealShare } from '../../../src/crypto/secagg/shareBox.js';
import { generateX25519, type X25519KeyPair } from '../../../src/crypto/secagg/x25519.js';
import type { MessageOf } from '../../../src/protocol/messages.js';
import { SecAggMember } from '../../../src/modes/secaggplus/member.js';
import { Roster } from '../../../src/client/security/roster.js';
import type { SecAggPlusFloors } from '../../../src/client/security/securityPolicy.js';

export const RUN = 'run-adversary';
export const ROUND = 1;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/**
 * A colluding client as the adversary runs it: its identity and round secrets are in the harness's hands. It
 * follows the key exchange well enough that honest clients accept it, and keeps every share sent to it.
 */
export class Colluder {
  readonly identity: Identity = generateIdentity();
  readonly encryption: X25519KeyPair = generateX25519();
  readonly mask: X25519KeyPair = generateX25519();
  private readonly selfSeed = new Uint8Array(randomBytes(32));
  /** The shares honest neighbours sealed to it, opened: by owner. */
  readonly held = new Map<string, { self: Uint8Array; mask: Uint8Array }>();

  constructor(readonly name: string) {}

  keys(): MessageOf<'secagg-round-keys'> {
    const commitment = new Uint8Array(createHash('sha256').update(this.selfSeed).digest());
    const keys = { runId: RUN, round: ROUND, name: this.name, encryptionKey: this.encryption.publicKey, maskKey: this.mask.publicKey, selfMaskCommitment: commitment };
    return { type: 'secagg-round-keys', round: ROUND, encryptionKey: b64(this.encryption.publicKey), maskKey: b64(this.mask.publicKey), selfMaskCommitment: b64(commitment), signature: b64(signRoundKeys(this.identity, keys)) };
  }

  async boxes(neighbours: readonly string[], encryptionKeyOf: (name: string) => Uint8Array, threshold: number): Promise<MessageOf<'secagg-shares'>> {
    const self = await shareSecret(this.selfSeed, neighbours.length, threshold);
    const mask = await shareSecret(this.mask.secretKey, neighbours.length, threshold);
    const boxes = neighbours.map((recipient, i) => {
      const sealed = sealShare(new Uint8Array([...self[i]!, ...mask[i]!]), this.encryption.secretKey, encryptionKeyOf(recipient), { runId: RUN, round: ROUND, sender: this.name, recipient });
      return { recipient, nonce: b64(sealed.nonce), ciphertext: b64(sealed.ciphertext) };
    });
    return { type: 'secagg-shares', round: ROUND, boxes };
  }

  open(box: { sender: string; nonce: string; ciphertext: string }, senderEncryptionKey: Uint8Array): void {
    const plain = openShare({ nonce: bytes(box.nonce), ciphertext: bytes(box.ciphertext) }, this.encryption.secretKey, senderEncryptionKey, { runId: RUN, round: ROUND, sender: box.sender, recipient: this.name });
    this.held.set(box.sender, { self: plain.slice(0, 33), mask: plain.slice(33) });
  }

  sign(survivors: readonly string[]): { name: string; signature: string } {
    return { name: this.name, signature: b64(signSurvivors(this.identity, RUN, ROUND, survivors)) };
  }
}

/** A round run by an adversarial coordinator over honest SecAggMembers and colluders it controls. */
export interface AdversaryRound {
  readonly honest: Map<string, SecAggMember>;
  readonly colluders: Map<string, Colluder>;
  readonly graph: ReadonlyMap<string, readonly string[]>;
  readonly memberKeys: Map<string, { maskKey: Uint8Array; encryptionKey: Uint8Array; selfMaskCommitment: Uint8Array; identityKey: Uint8Array }>;
  readonly masked: Map<string, Uint32Array>;
}

/**
 * Runs setup, share keys, share delivery and masking with real members and real crypto, the coordinator
 * relaying honestly up to the upload; `updates` are the honest members' encoded updates.
 */
export async function runUpToUpload(
  honestNames: readonly string[],
  colluderNames: readonly string[],
  degree: number,
  threshold: number,
  updates: ReadonlyMap<string, Uint32Array>,
  floors: Readonly<Record<string, SecAggPlusFloors>> = {},
): Promise<AdversaryRound> {
  const identities = new Map(honestNames.map((n) => [n, generateIdentity()]));
  const colluders = new Map(colluderNames.map((n) => [n, new Colluder(n)]));
  const roster = new Roster([...[...identities].map(([name, id]) => ({ name, identityKey: id.publicKey })), ...[...colluders.values()].map((c) => ({ name: c.name, identityKey: c.identity.publicKey }))]);
  const honest = new Map(honestNames.map((n) => [n, new SecAggMember(n, identities.get(n)!, roster, floors[n])]));
  const replies = new Map<string, MessageOf<'secagg-round-keys'>>();
  for (const [n, m] of honest) replies.set(n, m.setup({ type: 'secagg-setup', round: ROUND }, RUN));
  for (const [n, c] of colluders) replies.set(n, c.keys());
  const identityOf = (n: string) => identities.get(n)?.publicKey ?? colluders.get(n)!.identity.publicKey;
  const members = [...replies].map(([name, r]) => ({ name, identityKey: encodeBase64(identityOf(name)), encryptionKey: r.encryptionKey, maskKey: r.maskKey, selfMaskCommitment: r.selfMaskCommitment, signature: r.signature }));
  const memberKeys = new Map(members.map((m) => [m.name, { maskKey: bytes(m.maskKey), encryptionKey: bytes(m.encryptionKey), selfMaskCommitment: bytes(m.selfMaskCommitment), identityKey: bytes(m.identityKey) }]));
  const shareKeys: MessageOf<'secagg-share-keys'> = { type: 'secagg-share-keys', round: ROUND, neighbours: degree, threshold, members };
  const seed = graphSeed(RUN, ROUND, degree, members.map((m) => ({ name: m.name, encryptionKey: bytes(m.encryptionKey), maskKey: bytes(m.maskKey) })));
  const graph = neighbourGraph(members.map((m) => m.name), Math.min(degree, members.length - 1), seed);
  const sent = new Map<string, MessageOf<'secagg-shares'>>();
  for (const [n, m] of honest) sent.set(n, await m.shareKeys(shareKeys, RUN));
  for (const [n, c] of colluders) sent.set(n, await c.boxes(graph.get(n)!, (r) => memberKeys.get(r)!.encryptionKey, threshold));
  for (const recipient of memberKeys.keys()) {
    const boxes = [...sent].flatMap(([sender, s]) => s.boxes.filter((b) => b.recipient === recipient).map((b) => ({ sender, nonce: b.nonce, ciphertext: b.ciphertext })));
    const member = honest.get(recipient);
    if (member) member.receiveShares({ type: 'secagg-forward', round: ROUND, boxes }, RUN);
    else for (const b of boxes) colluders.get(recipient)!.open(b, memberKeys.get(b.sender)!.encryptionKey);
  }
  const masked = new Map<string, Uint32Array>();
  for (const [n, m] of honest) masked.set(n, m.mask(updates.get(n)!, ROUND, memberKeys.size));
  return { honest, colluders, graph, memberKeys, masked };
}

import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import type { AgreementKeyPair } from '../agreementKey.js';
import { sign, verify, type Identity } from '../identity.js';
import { transcript } from '../transcript.js';

/**
 * The CKKS secret key travels from a key holder (the dealer, or a client the dealer gave it to) to each other
 * client in a tweetnacl box (X25519 + XSalsa20-Poly1305) addressed to that client's signed agreement key. The
 * sender signs the box with its identity over the run, the key epoch, and both ends' names, identity keys
 * and agreement keys, so a box cannot be replayed into another run or epoch, redirected to another
 * recipient, or passed off as coming from another sender. The coordinator relays boxes it cannot open.
 */
export interface KeyBox {
  readonly recipient: string;
  readonly nonce: Uint8Array;
  readonly box: Uint8Array;
  readonly signature: Uint8Array;
}

/** One end of a key box: its node name, Ed25519 identity key and X25519 agreement key. */
export interface KeyBoxParty {
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly agreementKey: Uint8Array;
}

/** Which key a box carries: the run's, in a given epoch (a client never replaces the key it holds for a run). */
export interface KeyBoxContext {
  readonly runId: string;
  readonly epoch: number;
}

function boxTranscript(context: KeyBoxContext, sender: KeyBoxParty, recipient: KeyBoxParty, nonce: Uint8Array, box: Uint8Array): Uint8Array {
  return transcript('cohort-ckks-key-box-v2', [
    context.runId,
    context.epoch,
    sender.name,
    sender.identityKey,
    sender.agreementKey,
    recipient.name,
    recipient.identityKey,
    recipient.agreementKey,
    nonce,
    box,
  ]);
}

export function sealKeyBox(secretKey: Uint8Array, recipient: KeyBoxParty, sender: { readonly name: string; readonly identity: Identity; readonly agreement: AgreementKeyPair }, context: KeyBoxContext): KeyBox {
  const nonce = new Uint8Array(randomBytes(nacl.box.nonceLength));
  const box = nacl.box(secretKey, nonce, recipient.agreementKey, sender.agreement.secretKey);
  const from = { name: sender.name, identityKey: sender.identity.publicKey, agreementKey: sender.agreement.publicKey };
  return { recipient: recipient.name, nonce, box, signature: sign(boxTranscript(context, from, recipient, nonce, box), sender.identity.secretKey) };
}

/** Checks the sender's signature over the whole binding, then opens the box; throws naming what failed. */
export function openKeyBox(keyBox: KeyBox, me: { readonly name: string; readonly identityKey: Uint8Array; readonly agreement: AgreementKeyPair }, sender: KeyBoxParty, context: KeyBoxContext): Uint8Array {
  if (keyBox.recipient !== me.name) throw new Error(`the key box is addressed to "${keyBox.recipient}", not "${me.name}"`);
  const recipient = { name: me.name, identityKey: me.identityKey, agreementKey: me.agreement.publicKey };
  if (!verify(boxTranscript(context, sender, recipient, keyBox.nonce, keyBox.box), keyBox.signature, sender.identityKey)) {
    throw new Error(`the key box is not signed by ${sender.name}'s identity key for this run, key epoch ${context.epoch} and this client's keys`);
  }
  const opened = nacl.box.open(keyBox.box, keyBox.nonce, sender.agreementKey, me.agreement.secretKey);
  if (!opened) throw new Error("the key box does not open with this client's agreement key");
  return opened;
}

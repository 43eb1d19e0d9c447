import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import type { AgreementKeyPair } from '../agreementKey.js';
import { sign, verify, type Identity } from '../identity.js';
import { transcript } from '../transcript.js';

/**
 * The CKKS secret key travels from the dealer to each other client in a tweetnacl box (X25519 +
 * XSalsa20-Poly1305) addressed to that client's signed agreement key, and the dealer signs the box with its
 * identity, bound to the run and the recipient. The coordinator relays boxes it cannot open.
 */
export interface KeyBox {
  readonly recipient: string;
  readonly nonce: Uint8Array;
  readonly box: Uint8Array;
  readonly signature: Uint8Array;
}

function boxTranscript(runId: string, recipient: string, nonce: Uint8Array, box: Uint8Array): Uint8Array {
  return transcript('cohort-ckks-key-box-v1', [runId, recipient, nonce, box]);
}

export function sealKeyBox(secretKey: Uint8Array, recipient: { name: string; agreementKey: Uint8Array }, dealer: { identity: Identity; agreement: AgreementKeyPair }, runId: string): KeyBox {
  const nonce = new Uint8Array(randomBytes(nacl.box.nonceLength));
  const box = nacl.box(secretKey, nonce, recipient.agreementKey, dealer.agreement.secretKey);
  return { recipient: recipient.name, nonce, box, signature: sign(boxTranscript(runId, recipient.name, nonce, box), dealer.identity.secretKey) };
}

/** Checks the dealer's signature, then opens the box; throws naming what failed. */
export function openKeyBox(keyBox: KeyBox, me: { name: string; agreement: AgreementKeyPair }, dealer: { identityKey: Uint8Array; agreementKey: Uint8Array }, runId: string): Uint8Array {
  if (keyBox.recipient !== me.name) throw new Error(`the key box is addressed to "${keyBox.recipient}", not "${me.name}"`);
  if (!verify(boxTranscript(runId, keyBox.recipient, keyBox.nonce, keyBox.box), keyBox.signature, dealer.identityKey)) {
    throw new Error("the key box is not signed by the dealer's identity key");
  }
  const opened = nacl.box.open(keyBox.box, keyBox.nonce, dealer.agreementKey, me.agreement.secretKey);
  if (!opened) throw new Error('the key box does not open with this client\'s agreement key');
  return opened;
}

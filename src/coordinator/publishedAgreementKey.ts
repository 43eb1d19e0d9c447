import { verifyAgreementKey } from '../crypto/agreementKey.js';

/** The signed agreement key a client published, which key holders box the mode's keys to. */
export interface PublishedAgreementKey {
  readonly publicKey: string;
  readonly signature: string;
}

/** The agreement key a client offered (base64), kept only once its signature (the client's identity, this run) checks out. */
export function checkedAgreementKey(offered: PublishedAgreementKey, identityKey: Uint8Array, runId: string): PublishedAgreementKey {
  const signed = { publicKey: new Uint8Array(Buffer.from(offered.publicKey, 'base64')), signature: new Uint8Array(Buffer.from(offered.signature, 'base64')) };
  if (!verifyAgreementKey(signed, identityKey, runId)) throw new Error("the agreement key is not signed by this client's identity for this run");
  return { publicKey: offered.publicKey, signature: offered.signature };
}

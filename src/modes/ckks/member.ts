import type { MessageOf } from '../../protocol/messages.js';
import { describeLayout, layoutLength, unpackLayout, type EncryptedRoundState } from '../../protocol/encryptedLayout.js';
import type { EncryptedGlobalMeta } from '../../protocol/messages.js';
import { sizeOfShape, type TensorSpec } from '../../protocol/tensors.js';
import { generateAgreementKey, signAgreementKey, verifyAgreementKey, type AgreementKeyPair } from '../../crypto/agreementKey.js';
import { CkksClientSide } from '../../crypto/ckks/clientSide.js';
import { CkksContext } from '../../crypto/ckks/ckksContext.js';
import { maxCiphertextBytes } from '../../crypto/ckks/ckksSizes.js';
import { DEFAULT_CKKS_PARAMETERS } from '../../crypto/ckks/ckksParameters.js';
import { CiphertextFrameParser, ciphertextFrameChunks, ciphertextFrameChunksAsync, framedStreamLength } from '../../crypto/ckks/frames.js';
import { CkksThreads } from '../../crypto/ckks/threads/ckksThreads.js';
import { openKeyBox, sealKeyBox } from '../../crypto/ckks/keyBox.js';
import type { Identity } from '../../crypto/identity.js';
import { encodeBase64 } from '../../crypto/keyEncoding.js';
import type { Roster } from '../../client/security/roster.js';

const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** A recipient or sender the dealer or this client refused, and why (for the audit log). */
export interface KeyRefusal {
  readonly recipient: string;
  readonly reason: string;
}

/**
 * A client's part in CKKS secure aggregation: its X25519 agreement key, the federation's CKKS secret key
 * once dealt (generated here if this client is the dealer, else opened from a key holder's box), and the
 * encryption of its weighted model and decryption of the aggregate. The coordinator never sees the key.
 *
 * With a roster (the node's own list of the study's participants), who deals and who receives is decided
 * here, not by the coordinator: only the roster's dealer generates, boxes go only to roster members under the
 * identity keys the roster lists, and boxes are opened only from roster members. A key held for a run is
 * never replaced.
 */
export class CkksMember {
  readonly agreement: AgreementKeyPair = generateAgreementKey();
  private context: Promise<CkksContext> | undefined;
  private side: CkksClientSide | undefined;
  /** Worker threads holding the same key (none with `threads` 0): they go with the key. */
  private pool: CkksThreads | undefined;
  /** The run and key epoch the held key belongs to. */
  private keyRun: string | undefined;
  private keyEpoch = 0;

  /** `threads`: worker threads that encrypt and decrypt (0: on this thread, between the node's other work). */
  constructor(
    private readonly name: string,
    private readonly identity: Identity,
    private readonly roster?: Roster,
    private readonly threads = 0,
  ) {}

  get hasKey(): boolean {
    return this.side !== undefined;
  }

  /**
   * The signed agreement key this client publishes for `runId`. A key held for another run is dropped first:
   * keys are fresh per run, and a resumed run (same id) keeps its key across reconnects.
   */
  announce(runId: string): MessageOf<'agreement-key'> {
    if (this.keyRun !== runId) {
      this.hold(undefined);
      this.keyRun = undefined;
      this.keyEpoch = 0;
    }
    const signed = signAgreementKey(this.identity, this.agreement.publicKey, runId);
    return { type: 'agreement-key', publicKey: encodeBase64(signed.publicKey), signature: encodeBase64(signed.signature), holdsKey: this.hasKey };
  }

  /**
   * As dealer (or another key holder): make the key if asked to and entitled to, then box it for every
   * recipient whose agreement key verifies under the identity key it must have; the others are refused.
   */
  async deal(message: MessageOf<'ckks-deal'>, runId: string): Promise<{ reply: MessageOf<'ckks-boxes'>; refused: KeyRefusal[] }> {
    const ctx = await this.ctx();
    if (message.generate) {
      if (this.side) throw new Error('this client already holds a CKKS key for the run: it generates none');
      if (this.roster && this.roster.dealer !== this.name) {
        throw new Error(`asked to generate the run's CKKS key, but this node's roster names ${this.roster.dealer} as the dealer`);
      }
      this.hold(CkksClientSide.generate(ctx), ctx);
      this.keyRun = runId;
      this.keyEpoch = message.epoch;
    }
    if (!this.side || this.keyRun !== runId) throw new Error('asked to share a CKKS key this client does not hold');
    if (message.epoch !== this.keyEpoch) throw new Error(`asked to share key epoch ${message.epoch}; this client holds epoch ${this.keyEpoch}`);
    const secret = this.side.exportSecretKey();
    const boxes: MessageOf<'ckks-boxes'>['boxes'][number][] = [];
    const refused: KeyRefusal[] = [];
    try {
      for (const r of message.recipients) {
        try {
          const offered = fromBase64(r.identityKey);
          const identityKey = this.roster ? this.roster.keyOf(r.name, offered) : offered;
          const agreementKey = fromBase64(r.agreementKey);
          if (!verifyAgreementKey({ publicKey: agreementKey, signature: fromBase64(r.agreementSignature) }, identityKey, runId)) {
            throw new Error(`the agreement key offered for "${r.name}" is not signed by that client's identity for this run`);
          }
          const sender = { name: this.name, identity: this.identity, agreement: this.agreement };
          const box = sealKeyBox(secret, { name: r.name, identityKey, agreementKey }, sender, { runId, epoch: this.keyEpoch });
          boxes.push({ recipient: box.recipient, nonce: encodeBase64(box.nonce), box: encodeBase64(box.box), signature: encodeBase64(box.signature) });
        } catch (e) {
          refused.push({ recipient: r.name, reason: (e as Error).message });
        }
      }
    } finally {
      secret.fill(0);
    }
    return { reply: { type: 'ckks-boxes', boxes, ...(refused.length ? { refused } : {}) }, refused };
  }

  /** Checks the sender (on the roster, if one is pinned), its signed agreement key and its box, opens it, and keeps the key. */
  async receiveKey(message: MessageOf<'ckks-key'>, runId: string): Promise<void> {
    if (this.side && this.keyRun === runId) {
      throw new Error(`this client already holds the run's CKKS key (epoch ${this.keyEpoch}); a key from ${message.dealer} (epoch ${message.epoch}) would replace it, and is refused`);
    }
    const offered = fromBase64(message.dealerIdentityKey);
    const senderIdentityKey = this.roster ? this.roster.keyOf(message.dealer, offered) : offered;
    const senderAgreementKey = fromBase64(message.dealerAgreementKey);
    if (!verifyAgreementKey({ publicKey: senderAgreementKey, signature: fromBase64(message.dealerAgreementSignature) }, senderIdentityKey, runId)) {
      throw new Error(`the key holder ${message.dealer}'s agreement key is not signed by its identity for this run`);
    }
    const box = { recipient: message.keyBox.recipient, nonce: fromBase64(message.keyBox.nonce), box: fromBase64(message.keyBox.box), signature: fromBase64(message.keyBox.signature) };
    const me = { name: this.name, identityKey: this.identity.publicKey, agreement: this.agreement };
    const sender = { name: message.dealer, identityKey: senderIdentityKey, agreementKey: senderAgreementKey };
    const secret = openKeyBox(box, me, sender, { runId, epoch: message.epoch });
    try {
      const ctx = await this.ctx();
      this.hold(CkksClientSide.importSecretKey(ctx, secret), ctx);
      this.keyRun = runId;
      this.keyEpoch = message.epoch;
    } finally {
      secret.fill(0);
    }
  }

  /**
   * Decrypts the coordinator's encrypted sum one ciphertext at a time as its frames arrive (decryption
   * overlaps the download); `finish` checks every ciphertext came and splits the state by the layout.
   */
  sumDecryptor(encrypted: EncryptedGlobalMeta, spec: readonly TensorSpec[]): { push(frame: Uint8Array): void; finish(): Promise<EncryptedRoundState> } {
    const side = this.requireKey();
    const pool = this.pool;
    let parameters = 0;
    for (const t of spec) parameters += sizeOfShape(t.shape);
    const layout = { parameters, momentum: encrypted.momentum === true, logClipNorm: encrypted.logClipNorm === true };
    if (layoutLength(layout) !== encrypted.count) {
      throw new Error(`the encrypted global has ${encrypted.count} values; this client's model packed as ${describeLayout(layout)} has ${layoutLength(layout)}`);
    }
    const out = new Float32Array(encrypted.count);
    const expected = Math.ceil(encrypted.count / DEFAULT_CKKS_PARAMETERS.polyModulusDegree);
    let received = 0;
    const decrypting: Promise<void>[] = [];
    // Ciphertexts are decrypted in pairs (two cost about one): an even one waits for its partner, unless it is the last.
    let held: Uint8Array | undefined;
    const decrypt = (index: number, first: Uint8Array, second: Uint8Array | undefined) => {
      if (!pool) return side.decryptSumPair(index, first, second, encrypted.totalWeight, out);
      const done = pool.decryptPair(index, first, second, encrypted.totalWeight, out);
      done.catch(() => undefined); // awaited in finish
      decrypting.push(done);
    };
    return {
      push: (frame) => {
        if (received >= expected) throw new Error(`the encrypted global has more than the ${expected} ciphertexts of ${encrypted.count} values`);
        const index = received++;
        if (index % 2 === 1) {
          const first = held!;
          held = undefined;
          return decrypt(index - 1, first, frame);
        }
        if (index === expected - 1) return decrypt(index, frame, undefined);
        held = frame.slice(); // the parser may reuse the frame's bytes
      },
      finish: async () => {
        if (received !== expected) throw new Error(`the encrypted global ended after ${received} of its ${expected} ciphertexts`);
        await Promise.all(decrypting);
        return unpackLayout(out, layout, spec);
      },
    };
  }

  /** A parser for incoming ciphertext frames, bounded by the largest ciphertext of the parameters (a seeded sum: its c0 and a seed record per contributor, at most twice a seeded ciphertext). */
  frameParser(): CiphertextFrameParser {
    return new CiphertextFrameParser(maxCiphertextBytes() * 2);
  }

  /**
   * Starts making the masks of an upload of `values` values on the worker threads (none without threads):
   * called as training starts, so they are made while it runs. Masks stay with the key they were made under.
   * Resolves with the masks ready once the threads stop making them (0 without threads; never rejects).
   */
  prepareUpload(values: number): Promise<number> {
    if (!this.pool) return Promise.resolve(0);
    return this.pool.precompute(Math.ceil(values / DEFAULT_CKKS_PARAMETERS.polyModulusDegree)).catch(() => 0);
  }

  /**
   * Encrypts weight x values (a packed layout) for upload: ciphertext frames, encrypted as the transport pulls
   * them (encryption overlaps sending), and their byte length, known up front.
   */
  encryptVector(values: Float32Array, weight: number, chunkBytes: number): { totalBytes: number; chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>; clipped: number } {
    const side = this.requireKey();
    if (this.pool) {
      const { count, clipped } = side.checkUpdate(values, weight);
      const size = side.ciphertextBytes;
      const ciphertexts = this.pool.encryptAll(values, weight, count, size);
      return { totalBytes: framedStreamLength(count, size), chunks: ciphertextFrameChunksAsync(ciphertexts, chunkBytes), clipped };
    }
    const update = side.encryptStream(values, weight);
    return { totalBytes: framedStreamLength(update.count, update.ciphertextBytes), chunks: ciphertextFrameChunks(update.ciphertexts, chunkBytes), clipped: update.clipped };
  }

  dispose(): void {
    this.hold(undefined);
    void this.context?.then((c) => c.dispose());
  }

  /** Holds `side`'s key from now on: the previous key's side and threads (and every mask made under it) are dropped. */
  private hold(side: CkksClientSide | undefined, ctx?: CkksContext): void {
    this.side?.dispose();
    void this.pool?.dispose();
    this.side = side;
    this.pool = undefined;
    if (side && ctx && this.threads > 0) {
      const secret = side.exportSecretKey();
      try {
        this.pool = new CkksThreads(ctx, secret, this.threads);
      } finally {
        secret.fill(0);
      }
    }
  }

  private requireKey(): CkksClientSide {
    if (!this.side) throw new Error('no CKKS key yet: the dealer has not shared it with this client');
    return this.side;
  }

  private ctx(): Promise<CkksContext> {
    this.context ??= CkksContext.create();
    return this.context;
  }
}

import { afterAll, describe, expect, it } from 'vitest';
import { CkksContext } from '../../src/crypto/ckks/ckksContext.js';
import { CkksEvaluatorSide } from '../../src/crypto/ckks/evaluatorSide.js';
import { decodeCiphertextFrames, encodeCiphertextFrames } from '../../src/crypto/ckks/frames.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import { CkksMember } from '../../src/modes/ckks/member.js';

const n = 150_001;
const ciphertexts = Math.ceil(n / 4096);
const spec = [{ name: 'w', shape: [n] }];

function randomValues(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 4 - 2;
  }
  return out;
}

/** The dealer makes run `runId`'s key and boxes it for the other member, which opens it. */
async function dealKey(dealer: { member: CkksMember; name: string; identity: ReturnType<typeof generateIdentity> }, other: { member: CkksMember; name: string; identity: ReturnType<typeof generateIdentity> }, runId: string): Promise<void> {
  const dealerKey = dealer.member.announce(runId);
  const otherKey = other.member.announce(runId);
  const recipients = [{ name: other.name, identityKey: encodeBase64(other.identity.publicKey), agreementKey: otherKey.publicKey, agreementSignature: otherKey.signature }];
  const { reply } = await dealer.member.deal({ type: 'ckks-deal', generate: true, epoch: 1, recipients }, runId);
  expect(reply.boxes).toHaveLength(1);
  await other.member.receiveKey(
    { type: 'ckks-key', dealer: dealer.name, epoch: 1, dealerIdentityKey: encodeBase64(dealer.identity.publicKey), dealerAgreementKey: dealerKey.publicKey, dealerAgreementSignature: dealerKey.signature, keyBox: reply.boxes[0]! },
    runId,
  );
}

/** Streams an upload (async chunks from worker threads, or sync ones) into the coordinator's sum. */
async function upload(evaluator: CkksEvaluatorSide, made: { chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>; totalBytes: number }): Promise<Uint8Array[]> {
  const sink = evaluator.accept();
  const all: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of made.chunks) {
    sink.write(chunk);
    all.push(chunk.slice());
    bytes += chunk.length;
  }
  sink.commit();
  expect(bytes).toBe(made.totalBytes);
  return decodeCiphertextFrames(Buffer.concat(all));
}

async function decrypt(member: CkksMember, sum: Uint8Array[], totalWeight: number): Promise<Float32Array> {
  const decryptor = member.sumDecryptor({ totalWeight, count: n }, spec);
  for (const frame of decodeCiphertextFrames(encodeCiphertextFrames(sum))) decryptor.push(frame);
  return (await decryptor.finish()).weights[0]!.data;
}

const seedOf = (bytes: Uint8Array) => Buffer.from(bytes.subarray(bytes.length - 64)).toString('hex');
const ctx = await CkksContext.create();
const a = { name: 'a', identity: generateIdentity(), member: undefined as unknown as CkksMember };
const b = { name: 'b', identity: generateIdentity(), member: undefined as unknown as CkksMember };
a.member = new CkksMember(a.name, a.identity, undefined, 2);
// b works on its own thread: what it decrypts was decrypted with the key it holds now.
b.member = new CkksMember(b.name, b.identity, undefined, 0);

afterAll(() => {
  a.member.dispose();
  b.member.dispose();
  ctx.dispose();
});

describe('CKKS on worker threads: masks made ahead, encryption and decryption off the node thread', () => {
  it('sums 150k-value updates encrypted on masks by 2 threads and freshly on the node thread, decrypted on threads and off, every seed its own', async () => {
    await dealKey(a, b, 'run-1');
    // Masks for two uploads: the second upload's stay behind when the run ends (next test).
    expect(await a.member.prepareUpload(2 * ciphertexts * 4096)).toBe(2 * ciphertexts);
    const x = randomValues(n, 1);
    const y = randomValues(n, 2);
    const evaluator = new CkksEvaluatorSide(ctx, n);
    const fromA = await upload(evaluator, a.member.encryptVector(x, 3, 1 << 20));
    const fromB = await upload(evaluator, b.member.encryptVector(y, 5, 1 << 20));
    const sum = evaluator.serializeSum();
    evaluator.dispose();
    const seeds = new Set([...fromA, ...fromB].map(seedOf));
    expect(seeds.size).toBe(2 * ciphertexts);
    const outs: Float32Array[] = [];
    for (const member of [a.member, b.member]) {
      const out = await decrypt(member, sum, 8);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(out[i]! - (3 * x[i]! + 5 * y[i]!) / 8));
      expect(worst).toBeLessThan(1e-6);
      outs.push(out);
    }
    // In pairs on threads or on the node thread: the same model to the bit.
    expect(outs[0]).toEqual(outs[1]);
  });

  it('drops the masks made under a key when the key changes (a new run): uploads under the new key decrypt right', async () => {
    await dealKey(a, b, 'run-2');
    const x = randomValues(n, 3);
    const evaluator = new CkksEvaluatorSide(ctx, n);
    // Run 1's leftover masks encrypt zero under run 1's key: used here, b could not decrypt this.
    await upload(evaluator, a.member.encryptVector(x, 1, 1 << 20));
    const out = await decrypt(b.member, evaluator.serializeSum(), 1);
    evaluator.dispose();
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(out[i]! - x[i]!));
    expect(worst).toBeLessThan(1e-6);
  });
});

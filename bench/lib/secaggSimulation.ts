import { generateIdentity } from '../../src/crypto/identity.js';
import { addPacked, packBits, reduceMod } from '../../src/crypto/secagg/bitPacking.js';
import { encodeBase64 } from '../../src/crypto/keyEncoding.js';
import { graphSeed, neighbourGraph } from '../../src/crypto/secagg/neighbourGraph.js';
import { Roster } from '../../src/client/security/roster.js';
import { SecAggMember } from '../../src/modes/secaggplus/member.js';
import { resolveRound } from '../../src/modes/secaggplus/settings.js';
import { unmaskSum, type MemberKeys } from '../../src/modes/secaggplus/unmasking.js';
import type { MessageOf } from '../../src/protocol/messages.js';

/**
 * One SecAgg+ round over virtual clients in one process, with the real members and the coordinator's real
 * unmasking (no sockets: the messages are handed over as the coordinator would relay them). For the benches:
 * dropouts at chosen steps, the bytes of every message one client sends and receives, and the timings.
 */
export interface SimulationOptions {
  readonly clients: number;
  readonly neighbours?: number;
  readonly threshold?: number;
  /** b, the ring's bits: uploads are packed at b bits a value (default 32). */
  readonly bits?: number;
  /** Each client's encoded update (called once per client, in order). */
  readonly update: (index: number) => Uint32Array;
  /** Clients that drop after the key exchange, before uploading. */
  readonly dropBeforeUpload: ReadonlySet<number>;
  /** Clients that upload and then drop before the consistency round. */
  readonly dropAfterUpload: ReadonlySet<number>;
}

export interface SimulationResult {
  readonly sum: Uint32Array;
  readonly survivors: readonly number[];
  readonly degree: number;
  readonly threshold: number;
  /** JSON bytes of the control messages client 0 sent and received (what socket.io carries as text). */
  readonly messageBytes: { readonly sent: number; readonly received: number };
  /** Bytes of one packed masked upload (what a client streams to the coordinator). */
  readonly uploadBytes: number;
  /** maskPerClient includes packing; unmask includes the coordinator's unpacking of every upload into the sum. */
  readonly seconds: { readonly keyExchange: number; readonly maskPerClient: number; readonly unmask: number };
}

const RUN = 'bench-run';
const ROUND = 1;
const json = (m: unknown) => Buffer.byteLength(JSON.stringify(m));

export async function simulateRound(o: SimulationOptions): Promise<SimulationResult> {
  const names = Array.from({ length: o.clients }, (_, i) => `site-${String(i).padStart(3, '0')}`);
  const identities = names.map(() => generateIdentity());
  const roster = new Roster(names.map((name, i) => ({ name, identityKey: identities[i]!.publicKey })));
  const members = names.map((n, i) => new SecAggMember(n, identities[i]!, roster));
  const settings = resolveRound({ ...(o.neighbours !== undefined ? { neighbours: o.neighbours } : {}), ...(o.threshold !== undefined ? { threshold: o.threshold } : {}), ...(o.bits !== undefined ? { bits: o.bits } : {}) }, o.clients);
  const bits = settings.bits;
  let sent = 0;
  let received = 0;
  const t0 = performance.now();
  const keys = members.map((m) => m.setup({ type: 'secagg-setup', round: ROUND }, RUN));
  sent += json(keys[0]);
  received += json({ type: 'secagg-setup', round: ROUND });
  const list = keys.map((k, i) => ({ name: names[i]!, identityKey: encodeBase64(identities[i]!.publicKey), encryptionKey: k.encryptionKey, maskKey: k.maskKey, selfMaskCommitment: k.selfMaskCommitment, signature: k.signature }));
  const shareKeys: MessageOf<'secagg-share-keys'> = { type: 'secagg-share-keys', round: ROUND, neighbours: settings.neighbours, threshold: settings.threshold, members: list };
  received += json(shareKeys);
  const shares = await Promise.all(members.map((m) => m.shareKeys(shareKeys, RUN)));
  sent += json(shares[0]);
  for (let i = 0; i < o.clients; i++) {
    const boxes = shares.flatMap((s, j) => s.boxes.filter((b) => b.recipient === names[i]).map((b) => ({ sender: names[j]!, nonce: b.nonce, ciphertext: b.ciphertext })));
    const forward: MessageOf<'secagg-forward'> = { type: 'secagg-forward', round: ROUND, boxes };
    if (i === 0) received += json(forward);
    members[i]!.receiveShares(forward, RUN);
  }
  const keyExchange = (performance.now() - t0) / 1000;
  // Upload: each survivor masks and packs, and the coordinator unpacks it into the sum at once (as MaskedSum commits).
  const sum = new Uint32Array(o.update(0).length);
  const uploaded: number[] = [];
  let maskSeconds = 0;
  let unpackSeconds = 0;
  let uploadBytes = 0;
  for (let i = 0; i < o.clients; i++) {
    if (o.dropBeforeUpload.has(i)) continue;
    const encoded = o.update(i);
    const t = performance.now();
    const packed = packBits(members[i]!.mask(encoded, ROUND, o.clients), bits);
    maskSeconds += (performance.now() - t) / 1000;
    uploadBytes = packed.length;
    const u = performance.now();
    addPacked(sum, packed, bits);
    unpackSeconds += (performance.now() - u) / 1000;
    uploaded.push(i);
  }
  const survivors = uploaded.map((i) => names[i]!).sort();
  const consistency: MessageOf<'secagg-consistency'> = { type: 'secagg-consistency', round: ROUND, survivors };
  const responders = uploaded.filter((i) => !o.dropAfterUpload.has(i));
  const signatures = responders.map((i) => ({ name: names[i]!, signature: members[i]!.signSurvivors(consistency, RUN).signature }));
  const unmask: MessageOf<'secagg-unmask'> = { type: 'secagg-unmask', round: ROUND, survivors, signatures };
  const reveals = new Map(responders.map((i) => [names[i]!, members[i]!.reveal(unmask, RUN).shares]));
  if (responders.includes(0)) {
    received += json(consistency) + json(unmask);
    sent += json({ type: 'secagg-survivors-signed', round: ROUND, signature: signatures[0]!.signature }) + json({ type: 'secagg-reveal', round: ROUND, shares: reveals.get(names[0]!) });
  }
  const memberKeys = new Map<string, MemberKeys>(keys.map((k, i) => [names[i]!, { maskKey: new Uint8Array(Buffer.from(k.maskKey, 'base64')), selfMaskCommitment: new Uint8Array(Buffer.from(k.selfMaskCommitment, 'base64')) }]));
  const seed = graphSeed(RUN, ROUND, settings.neighbours, list.map((m) => ({ name: m.name, encryptionKey: new Uint8Array(Buffer.from(m.encryptionKey, 'base64')), maskKey: new Uint8Array(Buffer.from(m.maskKey, 'base64')) })));
  const graph = neighbourGraph(names, settings.degree, seed);
  const t1 = performance.now();
  await unmaskSum(sum, { runId: RUN, round: ROUND, threshold: settings.threshold, members: memberKeys, graph, shared: new Set(names), survivors, reveals });
  reduceMod(sum, bits);
  const unmaskSeconds = (performance.now() - t1) / 1000 + unpackSeconds;
  return {
    sum,
    survivors: uploaded,
    degree: settings.degree,
    threshold: settings.threshold,
    messageBytes: { sent, received },
    uploadBytes,
    seconds: { keyExchange, maskPerClient: maskSeconds / uploaded.length, unmask: unmaskSeconds },
  };
}

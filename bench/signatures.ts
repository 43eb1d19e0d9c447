/**
 * Ed25519 throughput: Cohort's sign/verify (node:crypto, OpenSSL, KeyObjects cached per key) against
 * tweetnacl's pure-JS `nacl.sign.detached` on the same keys and messages, in the same run. Every signature is
 * checked to be byte-identical between the two and to verify on both sides, so the speed-up costs nothing on
 * the wire. The coordinator verifies one signature per upload and per handshake; the node:crypto path is the
 * one it runs.
 *
 *   npx tsx bench/signatures.ts [--count 2_000] [--bytes 200] [--keys 100] [--runs 3] [--warmup 200]
 */
import { createPublicKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import nacl from 'tweetnacl';
import { generateIdentity, sign, verify, type Identity } from '../src/crypto/identity.js';
import { benchArgs } from './lib/args.js';
import { isMain } from './lib/isMain.js';
import { printResult } from './lib/result.js';
import { median, timeRuns } from './lib/stats.js';
import { formatTable, ratio } from './lib/table.js';

export interface SignatureBenchOptions {
  /** Signatures per measured run. */
  readonly count: number;
  /** Bytes per message (an upload's signed header is about this size). */
  readonly bytes: number;
  /** Distinct signers, used in turn (a federation's clients). */
  readonly keys: number;
  readonly runs: number;
  /** Operations of each kind run unmeasured first (JIT, key caches). */
  readonly warmup: number;
}

// Measured on these machines when the identity scheme was chosen (node:crypto against tweetnacl).
const DESIGN_TWEETNACL_PER_S = 150;
const DESIGN_NODE_PER_S = 15_000;
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

interface Inputs {
  readonly signers: Identity[];
  readonly messages: Uint8Array[];
  readonly signatures: Uint8Array[];
}

function prepare(o: SignatureBenchOptions): Inputs {
  const signers = Array.from({ length: o.keys }, () => generateIdentity());
  const messages = Array.from({ length: o.count }, () => new Uint8Array(randomBytes(o.bytes)));
  const signatures = messages.map((m, i) => sign(m, signers[i % o.keys]!.secretKey));
  return { signers, messages, signatures };
}

/** Runs `op` on items 0..n-1 and counts the ones it returned true for. */
function countTrue(n: number, op: (i: number) => boolean): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (op(i)) ok++;
  return ok;
}

export async function benchSignatures(o: SignatureBenchOptions): Promise<void> {
  console.log(`\n## Ed25519: ${o.count.toLocaleString('en')} signatures of ${o.bytes}-byte messages by ${o.keys} keys`);
  console.log(`node ${process.version}, OpenSSL ${process.versions.openssl}, tweetnacl 1.0.3 (nacl-fast); median of ${o.runs} runs after ${o.warmup} unmeasured operations of each kind`);
  const { signers, messages, signatures } = prepare(o);
  const key = (i: number) => signers[i % o.keys]!;

  // Same bytes on the wire: Ed25519 is deterministic (RFC 8032), so both libraries must agree exactly.
  let differing = 0;
  let refused = 0;
  for (let i = 0; i < Math.min(o.count, 200); i++) {
    const theirs = nacl.sign.detached(messages[i]!, key(i).secretKey);
    if (!Buffer.from(theirs).equals(Buffer.from(signatures[i]!))) differing++;
    if (!nacl.sign.detached.verify(messages[i]!, signatures[i]!, key(i).publicKey) || !verify(messages[i]!, theirs, key(i).publicKey)) refused++;
  }
  if (differing + refused > 0) throw new Error(`${differing} signatures differ between node:crypto and tweetnacl, ${refused} refused by the other side`);

  const ops: { name: string; note: string; op: (i: number) => boolean }[] = [
    { name: 'verify, Cohort (node:crypto)', note: 'KeyObject cached per public key', op: (i) => verify(messages[i]!, signatures[i]!, key(i).publicKey) },
    {
      name: 'verify, node:crypto uncached',
      note: 'SPKI parsed for every signature',
      op: (i) => {
        const pub = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, key(i).publicKey]), format: 'der', type: 'spki' });
        return cryptoVerify(null, messages[i]!, pub, signatures[i]!);
      },
    },
    { name: 'verify, tweetnacl', note: 'nacl.sign.detached.verify', op: (i) => nacl.sign.detached.verify(messages[i]!, signatures[i]!, key(i).publicKey) },
    { name: 'sign, Cohort (node:crypto)', note: 'KeyObject cached per secret key', op: (i) => sign(messages[i]!, key(i).secretKey).length === 64 },
    { name: 'sign, tweetnacl', note: 'nacl.sign.detached', op: (i) => nacl.sign.detached(messages[i]!, key(i).secretKey).length === 64 },
  ];
  const rates = new Map<string, number>();
  const rows: string[][] = [];
  for (const { name, note, op } of ops) {
    countTrue(Math.min(o.warmup, o.count), op);
    let ok = 0;
    const seconds = median(await timeRuns(0, o.runs, () => (ok = countTrue(o.count, op))));
    if (ok !== o.count) throw new Error(`${name}: ${o.count - ok} of ${o.count} operations failed`);
    const perSecond = o.count / seconds;
    rates.set(name, perSecond);
    rows.push([name, `${(seconds * 1000).toFixed(0)} ms`, Math.round(perSecond).toLocaleString('en'), `${((1e6 * seconds) / o.count).toFixed(1)}`, note]);
  }
  console.log();
  console.log(formatTable(['operation', 'median', 'per second', 'us each', 'what'], rows));

  const nodeVerify = rates.get(ops[0]!.name)!;
  const naclVerify = rates.get(ops[2]!.name)!;
  const nodeSign = rates.get(ops[3]!.name)!;
  const naclSign = rates.get(ops[4]!.name)!;
  console.log();
  console.log(
    formatTable(
      ['ratio', 'this run', 'measured before'],
      [
        ['verify: node:crypto / tweetnacl', ratio(nodeVerify / naclVerify), ratio(DESIGN_NODE_PER_S / DESIGN_TWEETNACL_PER_S)],
        ['verify: cached / uncached KeyObject', ratio(nodeVerify / rates.get(ops[1]!.name)!), '-'],
        ['sign: node:crypto / tweetnacl', ratio(nodeSign / naclSign), '-'],
      ],
    ),
  );
  console.log();
  console.log(`verifications/s: node:crypto ${Math.round(nodeVerify).toLocaleString('en')} (measured before: about ${DESIGN_NODE_PER_S.toLocaleString('en')}), tweetnacl ${Math.round(naclVerify).toLocaleString('en')} (measured before: about ${DESIGN_TWEETNACL_PER_S})`);
  console.log(`wire check: ${Math.min(o.count, 200)} signatures byte-identical between node:crypto and tweetnacl, each verified by the other side`);
  console.log();
  printResult('signatures.verify_node_vs_tweetnacl', nodeVerify / naclVerify, 'x', `none set (measured before: ${ratio(DESIGN_NODE_PER_S / DESIGN_TWEETNACL_PER_S)})`);
}

if (isMain(import.meta.url)) {
  const args = benchArgs(['count', 'bytes', 'keys', 'runs', 'warmup']);
  await benchSignatures({
    count: args.number('count', 2_000),
    bytes: args.number('bytes', 200, 0),
    keys: args.number('keys', 100),
    runs: args.number('runs', 3),
    warmup: args.number('warmup', 200, 0),
  });
}

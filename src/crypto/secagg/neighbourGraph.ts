import { createHash } from 'node:crypto';
import { transcript } from '../transcript.js';
import { MaskStream } from './maskStream.js';

/** A cohort member as the graph seed binds it: its name and the round keys it signed. */
export interface GraphMember {
  readonly name: string;
  readonly encryptionKey: Uint8Array;
  readonly maskKey: Uint8Array;
}

/**
 * The graph's seed: SHA-256 over the run, round, degree and every member's name and signed round keys, in name
 * order. Each client recomputes it from the member list it was sent, so the coordinator cannot pick a graph
 * after seeing the keys without changing the members (which the clients see), and fresh round keys make it
 * unpredictable before the round.
 */
export function graphSeed(runId: string, round: number, degree: number, members: readonly GraphMember[]): Uint8Array {
  const sorted = [...members].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.name === sorted[i - 1]!.name) throw new Error(`the cohort names "${sorted[i]!.name}" twice`);
  const fields = sorted.flatMap((m) => [m.name, m.encryptionKey, m.maskKey]);
  return new Uint8Array(createHash('sha256').update(transcript('cohort-secaggplus-graph-v1', [runId, round, degree, ...fields])).digest());
}

/** A uniform integer in [0, bound) from the stream, by rejection (no modulo bias). */
function uniformBelow(stream: MaskStream, bound: number): number {
  const limit = Math.floor(4_294_967_296 / bound) * bound;
  for (;;) {
    const x = stream.next(1)[0]!;
    if (x < limit) return x % bound;
  }
}

/**
 * The k-regular neighbour graph of SecAgg+ (Bell et al. 2020, a random Harary graph): the members, shuffled by
 * the seed (Fisher-Yates driven by AES-CTR), sit on a circle, and each is joined to the k/2 nearest on either
 * side. k must be even; k >= n - 1 gives the complete graph (the original SecAgg).
 */
export function neighbourGraph(names: readonly string[], degree: number, seed: Uint8Array): ReadonlyMap<string, readonly string[]> {
  const n = names.length;
  if (new Set(names).size !== n) throw new Error('the cohort names a member twice');
  const complete = degree >= n - 1;
  if (!complete && (!Number.isInteger(degree) || degree < 2 || degree % 2 !== 0)) throw new Error(`secaggplus.neighbours must be an even integer of at least 2 (or the cohort size - 1), got ${degree}`);
  const order = [...names].sort();
  const stream = new MaskStream(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = uniformBelow(stream, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const graph = new Map<string, string[]>();
  order.forEach((name, i) => {
    if (complete) graph.set(name, order.filter((o) => o !== name));
    else {
      const near: string[] = [];
      for (let d = 1; d <= degree / 2; d++) near.push(order[(i + d) % n]!, order[(i - d + n) % n]!);
      graph.set(name, near);
    }
  });
  return graph;
}

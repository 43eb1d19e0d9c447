/** base64 <-> bytes for the SecAgg+ messages (lengths are checked by the schemas in protocol/messages.ts). */
export const fromBase64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
export const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** The names sorted in code-unit order (a set's canonical form: what is signed and compared). */
export function canonicalSet(names: readonly string[]): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The degree the graph really has: k, or n - 1 when k reaches it (the complete graph). */
export function effectiveDegree(neighbours: number, cohort: number): number {
  return Math.min(neighbours, cohort - 1);
}

/**
 * Why a threshold t cannot protect a neighbourhood of `degree` clients, or undefined. t > degree / 2: two
 * disjoint halves of a neighbourhood can never both reconstruct, so one set of shares cannot be used for both
 * a client's self mask and its mask key (Bonawitz et al. 2017, section 6).
 */
export function thresholdRefusal(threshold: number, degree: number): string | undefined {
  if (!Number.isInteger(threshold) || threshold < 2) return `the threshold must be an integer of at least 2, got ${threshold}`;
  if (threshold > degree) return `the threshold ${threshold} exceeds the ${degree} neighbours each client shares with`;
  if (2 * threshold <= degree) return `the threshold ${threshold} is not above half of the ${degree} neighbours: disjoint sets of neighbours could reconstruct both of a client's secrets`;
  return undefined;
}

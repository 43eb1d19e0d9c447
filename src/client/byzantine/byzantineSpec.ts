import { z } from 'zod';
import { createSeededRng, mixSeed, shuffleInPlace } from '../../protocol/seededRng.js';
import { byzantineAttackSchema } from './maliciousDelta.js';

/** Which simulated clients are Byzantine and how they attack: an experiment config's `byzantine` block. */
export const byzantineSpecSchema = z.strictObject({
  /** How many clients (chosen at random from the experiment's seed), or their names. */
  clients: z.union([z.number().int().min(0), z.array(z.string().min(1)).min(1)]),
  attack: byzantineAttackSchema,
});
/** Which simulated clients are malicious (a count or names) and the attack they mount. */
export type ByzantineSpec = z.infer<typeof byzantineSpecSchema>;

/** Stream tag so the choice of attackers does not reuse the partitioner's or trainers' random streams. */
const BYZANTINE_STREAM = 0x62797a;

/** The names of the clients that attack, in the order of `names`. */
export function byzantineClients(spec: ByzantineSpec, names: readonly string[], seed: number): string[] {
  const listed = spec.clients;
  if (typeof listed !== 'number') {
    const unknown = listed.filter((n) => !names.includes(n));
    if (unknown.length > 0) throw new RangeError(`byzantine.clients names ${unknown.join(', ')}, which are not clients of this experiment`);
    return names.filter((n) => listed.includes(n));
  }
  if (listed > names.length) throw new RangeError(`byzantine.clients is ${listed}, but the experiment has only ${names.length} clients`);
  const chosen = new Set(shuffleInPlace([...names], createSeededRng(mixSeed(seed, BYZANTINE_STREAM))).slice(0, listed));
  return names.filter((n) => chosen.has(n));
}

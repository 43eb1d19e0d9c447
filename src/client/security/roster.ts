import { timingSafeEqual } from 'node:crypto';
import { keyFingerprint } from '../../crypto/identity.js';

/** One participant of a study as a hospital's own config names it: a node name and its Ed25519 identity key. */
export interface RosterEntry {
  /** The participant's name. */
  readonly name: string;
  /** Its Ed25519 identity key (32 bytes). */
  readonly identityKey: Uint8Array;
}

/**
 * The federation roster a client pins: who the study's participants are. Under CKKS the dealer of the key and
 * every key-box recipient must be on it, with the key it lists, whatever the coordinator says; the dealer is
 * computed here (the first name in code-unit order), never taken from the coordinator.
 */
export class Roster {
  private readonly byName: ReadonlyMap<string, Uint8Array>;
  /** Generates the run's CKKS key: the roster's first name, so every client computes the same one. */
  readonly dealer: string;

  constructor(entries: readonly RosterEntry[]) {
    if (entries.length === 0) throw new Error('the roster must name at least one participant');
    const byName = new Map<string, Uint8Array>();
    for (const e of entries) {
      if (e.identityKey.length !== 32) throw new Error(`roster entry "${e.name}": an identity key is 32 bytes, got ${e.identityKey.length}`);
      if (byName.has(e.name)) throw new Error(`the roster names "${e.name}" twice`);
      byName.set(e.name, new Uint8Array(e.identityKey));
    }
    this.byName = byName;
    this.dealer = [...byName.keys()].sort()[0]!;
  }

  /** Participants on the roster: the largest cohort a round can honestly have. */
  get size(): number {
    return this.byName.size;
  }

  get names(): readonly string[] {
    return [...this.byName.keys()];
  }

  /**
   * The identity key the roster lists for `name`. Throws naming the problem when `name` is not on the roster,
   * or when `offered` (a key someone else presents for it) differs from the listed one.
   */
  keyOf(name: string, offered?: Uint8Array): Uint8Array {
    const listed = this.byName.get(name);
    if (!listed) throw new Error(`"${name}" is not on this node's federation roster`);
    if (offered && (offered.length !== listed.length || !timingSafeEqual(offered, listed))) {
      const shown = offered.length === listed.length ? keyFingerprint(offered) : `a ${offered.length}-byte key`;
      throw new Error(`the key offered for "${name}" (${shown}) is not the one the roster lists (${keyFingerprint(listed)})`);
    }
    return listed;
  }
}

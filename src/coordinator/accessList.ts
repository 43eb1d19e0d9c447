import { timingSafeEqual } from 'node:crypto';
import { keyFingerprint } from '../crypto/identity.js';

/** What an allowed peer may do: train (`client`), watch (`observer`) or administer (`admin`). */
export type Role = 'client' | 'observer' | 'admin';

/** One entry of the coordinator's access list. */
export interface AllowedPeer {
  /** The name the peer authenticates with. */
  readonly name: string;
  /** Its Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** client: trains and evaluates; observer: may watch, gets no tasks; admin: may also revoke. */
  readonly role: Role;
}

/** Whether a peer may join: its entry, or the reason it may not. */
export type AccessDecision = { readonly ok: true; readonly peer: AllowedPeer } | { readonly ok: false; readonly reason: string };

/**
 * Who may connect. `open` admits any key (its holder still proves it and signs every upload); a list admits
 * exactly the named keys. Keys are compared in constant time.
 */
export class AccessList {
  private entries: readonly AllowedPeer[];
  /** By name: a simulation's allowlist holds 10,000 virtual clients, and every connection looks itself up. */
  private byName: ReadonlyMap<string, AllowedPeer>;

  /** A list in `mode` holding `entries` (ignored when open); `AccessList.open()` and `AccessList.of()` say it shorter. */
  constructor(
    /** `open` admits any peer that proves a key; `allowlist` only the listed ones. */
    readonly mode: 'open' | 'allowlist',
    entries: readonly AllowedPeer[] = [],
  ) {
    this.entries = [...entries];
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
  }

  /** A list that admits any peer that proves its key (each still signs its uploads). */
  static open(): AccessList {
    return new AccessList('open');
  }

  /** An allowlist of these peers; throws when a name is listed twice. */
  static of(entries: readonly AllowedPeer[]): AccessList {
    const names = new Set<string>();
    for (const e of entries) {
      if (names.has(e.name)) throw new Error(`access list names "${e.name}" twice`);
      names.add(e.name);
    }
    return new AccessList('allowlist', entries);
  }

  /** The peers listed now. */
  get peers(): readonly AllowedPeer[] {
    return this.entries;
  }

  /** Whether `name` with `publicKey` may join; keys are compared in constant time. */
  decide(name: string, publicKey: Uint8Array): AccessDecision {
    if (this.mode === 'open') return { ok: true, peer: { name, publicKey, role: 'client' } };
    const entry = this.byName.get(name);
    const fingerprint = keyFingerprint(publicKey);
    if (!entry) return { ok: false, reason: `unknown client "${name}" (key ${fingerprint}): not in the coordinator's access list` };
    if (entry.publicKey.length !== publicKey.length || !timingSafeEqual(entry.publicKey, publicKey)) {
      return { ok: false, reason: `key ${fingerprint} is not the key the access list holds for "${name}" (${keyFingerprint(entry.publicKey)})` };
    }
    return { ok: true, peer: entry };
  }

  /** Replaces the list (config reload, admin revocation); returns the names that lost access. */
  replace(entries: readonly AllowedPeer[]): string[] {
    const next = AccessList.of(entries);
    const lost = this.entries.filter((e) => next.decide(e.name, e.publicKey).ok === false).map((e) => e.name);
    this.entries = next.entries;
    this.byName = next.byName;
    return lost;
  }

  /** Removes `name` from the list; false when it was not listed. */
  revoke(name: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.name !== name);
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
    return this.entries.length < before;
  }
}

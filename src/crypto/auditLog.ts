import { closeSync, fdatasyncSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatAuditProblem, type AuditProblem } from './auditChain.js';
import {
  AUDIT_GENESIS_PREV,
  auditSignedMessage,
  decodeBase64,
  encodeBase64,
  serializeAuditEntry,
  signAuditEntry,
  type AuditEntry,
} from './auditEntry.js';
import { auditKeyFingerprint, ed25519Verify, type AuditSigner, type AuditVerify } from './auditSigner.js';
import { isPlainObject, type JsonObject } from './canonicalJson.js';
import { verifyAuditText } from './verifyAuditLog.js';

/** The clock, the signature check and the durability of an audit log. */
export interface AuditLogOptions {
  /** Clock for entry times; `() => new Date()` by default. */
  readonly now?: () => Date;
  /** Ed25519 verification, for reopening and for checking the signer's own signatures; node:crypto by default. */
  readonly verify?: AuditVerify;
  /** fdatasync after each entry (default true), so a power cut loses at most the entry being written. */
  readonly sync?: boolean;
}

export class AuditLogError extends Error {
  override readonly name = 'AuditLogError';
  constructor(
    message: string,
    readonly problems: readonly AuditProblem[] = [],
  ) {
    super(message);
  }
}

const SHOWN_PROBLEMS = 10;

/**
 * An append-only, hash-chained, signed log (JSON Lines, one entry per line; format in auditEntry.ts).
 * One writer per file: two AuditLog objects on the same file would fork the chain, and verification says so.
 */
export class AuditLog {
  readonly #signerKey: string;
  #fd: number | null;
  #next: number;
  #prev: string;
  #failure: string | null = null;

  private constructor(
    /** The log file. */
    readonly path: string,
    private readonly signer: AuditSigner,
    fd: number,
    next: number,
    prev: string,
    private readonly options: AuditLogOptions,
  ) {
    this.#signerKey = encodeBase64(signer.publicKey);
    this.#fd = fd;
    this.#next = next;
    this.#prev = prev;
  }

  /**
   * Creates the file (mode 0600), or verifies an existing one completely and continues its chain. Refuses
   * (AuditLogError) a file that fails verification, an incomplete last line included, or that another key
   * wrote: starting a new chain on top would bury the damage, so there is no silent repair.
   */
  static open(path: string, signer: AuditSigner, options: AuditLogOptions = {}): AuditLog {
    if (signer.publicKey.length !== 32) throw new RangeError(`audit signer: expected a 32-byte public key, got ${signer.publicKey.length}`);
    try {
      const fd = openSync(path, 'ax', 0o600);
      syncDirectory(path);
      return new AuditLog(path, signer, fd, 0, AUDIT_GENESIS_PREV, options);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const result = verifyAuditText(readFileSync(path, 'utf8'), options.verify ? { verify: options.verify } : {});
    if (!result.ok) {
      const shown = result.problems.slice(0, SHOWN_PROBLEMS).map((p) => `  ${formatAuditProblem(p)}`);
      const more = result.problems.length > SHOWN_PROBLEMS ? [`  ... and ${result.problems.length - SHOWN_PROBLEMS} more`] : [];
      throw new AuditLogError(
        `audit log ${path} fails verification, so nothing will be appended to it (move it aside to start a new log):\n${[...shown, ...more].join('\n')}`,
        result.problems,
      );
    }
    if (result.signer && encodeBase64(result.signer) !== encodeBase64(signer.publicKey)) {
      throw new AuditLogError(
        `audit log ${path} was written by key ${auditKeyFingerprint(result.signer)}, not by this node's key ` +
          `${auditKeyFingerprint(signer.publicKey)}; refusing to continue another signer's chain`,
      );
    }
    return new AuditLog(path, signer, openSync(path, 'a'), result.entries, result.lastHash, options);
  }

  /** Entries in the file, including those written before it was opened. */
  get entries(): number {
    return this.#next;
  }

  /** Hash of the last entry (64 zeros while the log is empty). */
  get lastHash(): string {
    return this.#prev;
  }

  /** Signs and appends one entry; returns it as written. Invalid `data` throws before anything is written. */
  append(type: string, data: JsonObject): AuditEntry {
    if (this.#failure !== null) throw new AuditLogError(`audit log ${this.path} is unusable after a failed write: ${this.#failure}`);
    if (this.#fd === null) throw new AuditLogError(`audit log ${this.path} is closed`);
    if (typeof type !== 'string' || type.length === 0) throw new TypeError('audit entry type must be a non-empty string');
    if (!isPlainObject(data)) throw new TypeError('audit entry data must be a plain JSON object');
    const time = (this.options.now?.() ?? new Date()).toISOString();
    const entry = signAuditEntry({ seq: this.#next, time, type, data, prev: this.#prev, signer: this.#signerKey }, this.signer);
    // A signer whose signatures do not verify under its own key would write a log that fails from here on.
    if (!(this.options.verify ?? ed25519Verify)(auditSignedMessage(entry.hash), decodeBase64(entry.sig), this.signer.publicKey)) {
      throw new AuditLogError(`audit signer's signature does not verify under its public key ${auditKeyFingerprint(this.signer.publicKey)}`);
    }
    const line = `${serializeAuditEntry(entry)}\n`;
    try {
      writeFully(this.#fd, Buffer.from(line, 'utf8'));
      if (this.options.sync ?? true) fdatasyncSync(this.#fd);
    } catch (e) {
      // Part of the line may be on disk; appending after it would hide the break, so stop here.
      this.#failure = e instanceof Error ? e.message : String(e);
      this.close();
      throw new AuditLogError(`audit log ${this.path}: writing entry seq ${entry.seq} failed: ${this.#failure}`);
    }
    this.#next += 1;
    this.#prev = entry.hash;
    return JSON.parse(line) as AuditEntry;
  }

  /** Closes the file; later appends throw. */
  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    closeSync(fd);
  }
}

function writeFully(fd: number, bytes: Buffer): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** Makes a new file's directory entry durable (POSIX); best effort, as some platforms cannot open directories. */
function syncDirectory(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows and some file systems refuse: the entries themselves are still synced.
  }
}

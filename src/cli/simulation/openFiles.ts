import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Descriptors a run opens besides its clients' sockets once it starts: the run store, worker threads' pipes,
 * the dashboard's connections, TLS, log files. Generous on purpose: a client short of a descriptor retries
 * forever without joining, so a false alarm costs less than a run that waits out its join deadline.
 */
export const OPEN_FILES_MARGIN = 64;

/** This process's open-file limit (its soft RLIMIT_NOFILE, which Node raises to the hard one), or undefined where unknown. */
export function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) return line[1] === 'unlimited' ? Infinity : Number(line[1]);
  } catch {
    // not Linux: ask a shell, which inherits this process's limit
  }
  if (process.platform === 'win32') return undefined;
  const shell = spawnSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const text = shell.stdout?.trim();
  if (shell.status !== 0 || !text) return undefined;
  return text === 'unlimited' ? Infinity : Number(text) || undefined;
}

/** Descriptors this process holds now, where the system says (Linux); otherwise an estimate of a fresh Node process's. */
export function openFileCount(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 32;
  }
}

export interface OpenFilesNeed {
  /** Sockets the run will hold at once: one per client connection on each side that lives in this process. */
  readonly sockets: number;
  /** Descriptors open now. */
  readonly open: number;
  /** The process's limit (undefined: unknown, nothing is checked). */
  readonly limit: number | undefined;
}

/**
 * Why a run's clients cannot all connect from this process, or undefined if they can. Past the limit, every
 * connection beyond it fails with EMFILE and its client retries forever: the coordinator waits for clients
 * that never come, which is how a 10,000-client simulation under a 20,000-file limit stalled at 9,988 joins.
 */
export function openFilesProblem(need: OpenFilesNeed): string | undefined {
  const { sockets, open, limit } = need;
  if (limit === undefined) return undefined;
  const total = sockets + open + OPEN_FILES_MARGIN;
  if (total <= limit) return undefined;
  return `about ${total} open files (${sockets} sockets, ${open} files open already, ${OPEN_FILES_MARGIN} to spare) but this process may open ${limit}`;
}

/**
 * Throws, before any client connects, if this process cannot hold `sockets` more sockets. `who` names what
 * needs them ("10000 virtual clients beside the coordinator"); `instead` is the way around other than a higher limit.
 */
export function checkOpenFiles(who: string, sockets: number, instead: string): void {
  const problem = openFilesProblem({ sockets, open: openFileCount(), limit: openFileLimit() });
  if (!problem) return;
  throw new Error(
    `${who} need ${problem} (ulimit -n): the connections past the limit would fail (EMFILE) and their clients never join. ` +
      `Raise the limit (Node already uses the hard one: raise that, e.g. docker run --ulimit nofile=N:N, systemd LimitNOFILE=N, /etc/security/limits.conf) or ${instead}`,
  );
}

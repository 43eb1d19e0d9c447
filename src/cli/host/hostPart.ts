/** Which share of a partition's virtual clients one `cohort host` process runs: part `number` of `count`. */
export interface HostPart {
  /** 1-based, as written on the command line: `--part 2/4` is the second of four. */
  readonly number: number;
  readonly count: number;
}

/** Parses `--part K/N` (1 <= K <= N), with an error that says what to write. */
export function parseHostPart(text: string): HostPart {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new Error(`--part ${text}: write K/N, this host's part and the number of hosts (e.g. --part 2/4 for the second of four)`);
  const number = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new Error(`--part ${text}: the number of hosts must be at least 1`);
  if (number < 1 || number > count) throw new Error(`--part ${text}: the part is out of range: parts count from 1 to ${count} (a Kubernetes completion index i is part i+1)`);
  return { number, count };
}

/**
 * The clients part K of N hosts: a contiguous block of indices, the blocks as even as integers allow (sizes
 * differ by at most one). Contiguous, so that a host's clients and their names are easy to read off.
 */
export function hostRange(part: HostPart, clients: number): { readonly start: number; readonly end: number } {
  if (part.count > clients) throw new Error(`--part ${part.number}/${part.count}: ${part.count} hosts for ${clients} virtual clients would leave some hosts without any; run at most ${clients}`);
  const start = Math.floor(((part.number - 1) * clients) / part.count);
  const end = Math.floor((part.number * clients) / part.count);
  return { start, end };
}

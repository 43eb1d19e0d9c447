/**
 * CPU seconds a federation's processes spent per round (all threads of each: training, CKKS worker threads,
 * sockets). On a machine shared with other work, wall time is what a round got and CPU time what it cost, so
 * the CPU ratio of two federations holds under load where the time ratio does not.
 */
export interface CpuRound {
  readonly round: number;
  readonly completedAt: number;
  /** CPU seconds of the coordinator's process and of the bench's own (the byte-counting proxies) at the round's end. */
  readonly coordinatorCpu: number;
  readonly proxyCpu: number;
}

export interface CpuMark {
  readonly name: string;
  readonly at: number;
  readonly cpu: number;
}

export interface RoundCpu {
  /** Per client, in the order of `clients`. */
  readonly clients: readonly number[];
  readonly coordinator: number;
  readonly proxies: number;
}

/** A client's CPU at its last mark up to `at` (its marks end each round: evaluated). */
function cpuAt(marks: readonly CpuMark[], name: string, at: number): number | undefined {
  let best: CpuMark | undefined;
  for (const m of marks) if (m.name === name && m.at <= at + 1 && (!best || m.at > best.at)) best = m;
  return best?.cpu;
}

/** CPU per process for every round after the first (each measured from the previous round's end to its own). */
export function cpuPerRound(rounds: readonly CpuRound[], marks: readonly CpuMark[], clients: readonly string[]): RoundCpu[] {
  const out: RoundCpu[] = [];
  const sorted = [...rounds].sort((a, b) => a.round - b.round);
  for (let i = 1; i < sorted.length; i++) {
    const [before, round] = [sorted[i - 1]!, sorted[i]!];
    const perClient = clients.map((name) => (cpuAt(marks, name, round.completedAt) ?? NaN) - (cpuAt(marks, name, before.completedAt) ?? NaN));
    out.push({ clients: perClient, coordinator: round.coordinatorCpu - before.coordinatorCpu, proxies: round.proxyCpu - before.proxyCpu });
  }
  return out;
}

const average = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Mean over rounds: each client's CPU, the coordinator's, the proxies', and the federation's total. */
export function meanCpu(rounds: readonly RoundCpu[]): { clients: number[]; coordinator: number; proxies: number; total: number } | undefined {
  if (rounds.length === 0) return undefined;
  const clients = rounds[0]!.clients.map((_, k) => average(rounds.map((r) => r.clients[k]!)));
  const coordinator = average(rounds.map((r) => r.coordinator));
  const proxies = average(rounds.map((r) => r.proxies));
  return { clients, coordinator, proxies, total: clients.reduce((a, b) => a + b, 0) + coordinator + proxies };
}

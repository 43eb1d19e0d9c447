import { resolve } from 'node:path';
import { RunStore, StoreError } from '../coordinator/store/runStore.js';

const pct = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(4));

/** `cohort runs`: one line per stored run. */
export function runRuns(storePath: string, print: (line: string) => void): void {
  const store = new RunStore(resolve(storePath));
  try {
    const runs = store.runs();
    if (runs.length === 0) print(`no runs in ${storePath}`);
    for (const r of runs) print(`${r.id}  ${r.name}  ${r.status}  rounds ${r.lastRound}/${r.roundsPlanned}  started ${r.createdAt}${r.error ? `  (${r.error})` : ''}`);
  } finally {
    store.close();
  }
}

/** The full record of a run as JSON: manifest, clients' data fingerprints, and every round with its participants. */
export function runExportManifest(store: RunStore, id: string): unknown {
  const run = store.run(id);
  if (!run) throw new StoreError(`no run "${id}" (see \`cohort runs\`)`);
  return {
    run,
    manifest: store.manifest(run.id),
    clients: store.clients(run.id),
    rounds: store.rounds(run.id).map((r) => ({
      round: r.round,
      attempts: r.attempts,
      modelSha256: r.modelSha256,
      participants: r.record.fit.outcomes.filter((o) => !o.failure).map((o) => o.client),
      dropped: r.record.fit.outcomes.filter((o) => o.failure).map((o) => ({ client: o.client, ...o.failure })),
      federatedLoss: r.record.evaluate?.loss ?? null,
      federatedMetrics: r.record.evaluate?.metrics ?? {},
    })),
  };
}

/** `cohort show <run>`: a summary table, or with --json the whole record. */
export function runShow(storePath: string, id: string, json: boolean, print: (line: string) => void): void {
  const store = new RunStore(resolve(storePath));
  try {
    const full = runExportManifest(store, id);
    if (json) {
      print(JSON.stringify(full, null, 2));
      return;
    }
    summaryOf(full).forEach((line) => print(line));
  } finally {
    store.close();
  }
}

function summaryOf(full: unknown): string[] {
  const f = full as {
    run: { id: string; name: string; status: string; lastRound: number; roundsPlanned: number };
    manifest: { cohortVersion?: string; gitCommit?: string; configHash?: string };
    clients: { client: string; backend: string; trainRows: number; testRows: number; schemaHash: string | null }[];
    rounds: { round: number; attempts: number; modelSha256: string; participants: string[]; dropped: { client: string }[]; federatedLoss: number | null; federatedMetrics: Record<string, number> }[];
  };
  return [
    `run ${f.run.id} "${f.run.name}": ${f.run.status}, rounds ${f.run.lastRound}/${f.run.roundsPlanned}; cohort ${f.manifest.cohortVersion}, commit ${shortCommit(f.manifest.gitCommit)}, config ${f.manifest.configHash?.slice(0, 12)}`,
    ...f.clients.map((c) => `  client ${c.client}: ${c.backend}, ${c.trainRows} train / ${c.testRows} test rows, schema ${c.schemaHash?.slice(0, 12) ?? '-'}`),
    ...f.rounds.map(
      (r) =>
        `  round ${r.round}: ${r.participants.length} clients${r.dropped.length ? ` (${r.dropped.length} dropped)` : ''}, loss ${pct(r.federatedLoss ?? undefined)}, accuracy ${pct(r.federatedMetrics.accuracy)}, model ${r.modelSha256.slice(0, 12)}${r.attempts > 1 ? `, ${r.attempts} attempts` : ''}`,
    ),
  ];
}

/** A commit hash shortened to 12 digits; anything else ("unknown (not a git checkout)") whole. */
function shortCommit(commit: string | undefined): string {
  if (commit === undefined) return 'unknown';
  return /^[0-9a-f]{40}$/.test(commit) ? commit.slice(0, 12) : commit;
}

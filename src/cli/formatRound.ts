import type { RoundRecord } from '../coordinator/roundRecord.js';

const fmt = (v: number | undefined, digits = 4) => (v === undefined ? '-' : v.toFixed(digits));

/** One progress line per round: number, clients, losses, accuracies and time. */
export function formatRound(record: RoundRecord, rounds: number): string {
  const width = String(rounds).length;
  const ok = record.fit.outcomes.filter((o) => !o.failure).length;
  const parts = [
    `round ${String(record.round).padStart(width)}/${rounds}`,
    `clients ${ok}/${record.fit.selected}`,
    `train loss ${fmt(record.fit.metrics.loss)}`,
    `fed loss ${fmt(record.evaluate?.loss)}`,
    `fed acc ${fmt(record.evaluate?.metrics.accuracy)}`,
  ];
  if (record.central) parts.push(`pooled acc ${fmt(record.central.metrics.accuracy)}`);
  if (record.privacy) {
    const sampling = record.privacy.sampling === 'public-cohort' ? '; q 1: public cohort' : `; q ${record.privacy.sampleRate}`;
    const adjacency = record.privacy.adjacency ? `; ${record.privacy.adjacency}` : '';
    parts.push(`epsilon ${record.privacy.epsilon.toFixed(3)} (delta ${record.privacy.delta}${sampling}${adjacency})`);
  }
  // Adaptive clipping: the C this round clipped to (under CKKS, as the clients report it).
  if (record.privacy?.clipNorm !== undefined) parts.push(`clip ${record.privacy.clipNorm.toPrecision(3)}`);
  // Example-level DP-SGD: each client accounts its own record-level epsilon; show the largest.
  const recordLevel = record.fit.outcomes.flatMap((o) => (o.metrics?.dpSgdEpsilon !== undefined ? [o.metrics.dpSgdEpsilon] : []));
  if (recordLevel.length > 0) parts.push(`record-level epsilon <= ${Math.max(...recordLevel).toFixed(3)}`);
  const t = record.fit.timing;
  parts.push(`${(record.durationMs / 1000).toFixed(2)} s${t ? ` (train ${(t.trainingMs / 1000).toFixed(2)}, transfer ${(t.transferMs / 1000).toFixed(2)}, aggregate ${(t.aggregationMs / 1000).toFixed(3)})` : ''}`);
  if (record.attempts > 1) parts.push(`(${record.attempts} attempts)`);
  const failed = record.fit.outcomes.filter((o) => o.failure).map((o) => `${o.client}: ${o.failure!.reason}`);
  if (failed.length > 0) parts.push(`dropped [${failed.join(', ')}]`);
  return parts.join('  ');
}

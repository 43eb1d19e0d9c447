import { basename } from 'node:path';
import type { CsvDataMeta } from './loadCsvData.js';

/**
 * One line a hospital's operator reads at start: rows read, dropped and why (missing values, per column), kept,
 * the split, and rows per class. Printed locally only; none of it is sent.
 */
export function dataSummary(name: string, meta: CsvDataMeta): string {
  const parts = [`${name}: ${meta.rowsRead} rows read from ${basename(meta.file)}`];
  if (meta.rowsDropped > 0) {
    const columns = Object.entries(meta.missingByColumn).sort(([, a], [, b]) => b - a).map(([column, n]) => `${column} ${n}`);
    parts.push(`${meta.rowsDropped} dropped for missing values (rows missing: ${columns.join(', ')})`);
  } else parts.push('none dropped');
  parts.push(`${meta.rowsKept} kept: ${meta.trainRows} train / ${meta.testRows} test, ${meta.featureCount} features`);
  parts.push(`per class: ${classCounts(meta)}`);
  return parts.join('; ');
}

/** Rows per label value, named by the label map's cell texts when it has them ("M=1 52"). */
function classCounts(meta: CsvDataMeta): string {
  const transform = meta.schema?.label.transform;
  const names = new Map<string, string[]>();
  if (transform && 'map' in transform) {
    for (const [text, value] of Object.entries(transform.map)) names.set(String(value), [...(names.get(String(value)) ?? []), text]);
  }
  return Object.entries(meta.rowsPerLabel)
    .map(([value, n]) => `${names.has(value) ? `${names.get(value)!.join('/')}=` : ''}${value} ${n}`)
    .join(', ');
}

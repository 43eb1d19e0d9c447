import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway directory for CSV fixtures; `write` returns the file's path. */
export function csvFixtureDir(): { dir: string; write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-data-'));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Column means and unbiased stds of a row-major matrix. */
export function columnStats(x: Float32Array, rows: number, width: number): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let j = 0; j < width; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * width + j] as number;
    const m = s / rows;
    let q = 0;
    for (let r = 0; r < rows; r++) q += ((x[r * width + j] as number) - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(q / (rows - 1)));
  }
  return { mean, std };
}

/** Count of each label value. */
export function labelCounts(y: Float32Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const v of y) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

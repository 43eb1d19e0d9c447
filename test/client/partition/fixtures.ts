/** `perClass` rows of each of `classes` labels, interleaved (label = row mod classes): a balanced dataset. */
export function balancedLabels(classes: number, perClass: number): Float32Array {
  return Float32Array.from({ length: classes * perClass }, (_, i) => i % classes);
}

/** Every row index in 0..rows-1 appears exactly once across the parts. */
export function coversEachRowOnce(parts: readonly (readonly number[])[], rows: number): boolean {
  const seen = new Uint8Array(rows);
  for (const part of parts) {
    for (const r of part) {
      if (!Number.isInteger(r) || r < 0 || r >= rows || seen[r]) return false;
      seen[r] = 1;
    }
  }
  return seen.every((s) => s === 1);
}

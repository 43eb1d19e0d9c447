/**
 * A benchmark's final figures, one line each, `name: value unit (target ...)`, so runs can be compared (names
 * start with the benchmark's: `grep -E '^(aggregation|roundTrip)\.'`). `meets` says whether this run met the target (undefined: no verdict).
 */
export function printResult(name: string, value: number, unit: string, target: string, meets?: boolean): void {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const verdict = meets === undefined ? '' : meets ? ', met' : ', MISSED';
  console.log(`${name}: ${value.toFixed(digits)} ${unit} (target ${target}${verdict})`);
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A finite decimal number, or undefined. Stricter than `Number()`, which reads "" and " " as 0 and accepts
 * "0x1f", "Infinity" and "1_000"-style surprises.
 */
export function parseStrictNumber(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

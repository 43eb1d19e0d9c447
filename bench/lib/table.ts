/** Formats rows as a Markdown table with padded columns (numbers right-aligned). */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+~]?[\d.,]+\s*(x|%|ms|s|MB|GB|GB\/s|MB\/s)?$/.test(r[i] ?? '')));
  const cell = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => cell(c, i)).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers.map((h, i) => (numeric[i] ? h.padStart(widths[i]!) : h))), rule, ...rows.map(line)].join('\n');
}

export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
export const gbps = (bytes: number, seconds: number): string => `${(bytes / seconds / 1e9).toFixed(2)} GB/s`;
export const ratio = (x: number): string => `${x.toFixed(2)}x`;

import { parseArgs } from 'node:util';

/** Parses `--name value` flags; numbers may use underscores (`--params 100_000_000`). */
export function benchArgs<const N extends readonly string[]>(numbers: N, flags: readonly string[] = [], texts: readonly string[] = [], argv = process.argv.slice(2)) {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const n of numbers) options[n] = { type: 'string' };
  for (const f of flags) options[f] = { type: 'boolean' };
  for (const t of texts) options[t] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const raw = values as Record<string, string | boolean | undefined>;
  return {
    number(name: N[number], fallback: number, min = 1): number {
      const v = raw[name];
      if (typeof v !== 'string') return fallback;
      const n = Number(v.replaceAll('_', ''));
      if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
      return n;
    },
    text(name: string): string | undefined {
      const v = raw[name];
      return typeof v === 'string' ? v : undefined;
    },
    flag(name: string): boolean {
      return raw[name] === true;
    },
  };
}

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Formats zod issues as one line per field: "strategy.fractionFit: Too big: expected number to be <=1". */
export function formatIssues(source: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `  ${path}: ${issue.message}`;
  });
  return `${source} is not a valid configuration:\n${lines.join('\n')}`;
}

/** Reads a YAML (or JSON) file and validates it, with errors naming the file, the field and what is allowed. */
export function loadConfig<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${path} is not valid YAML: ${(e as Error).message}`);
  }
  return parseConfig(path, raw, schema);
}

export function parseConfig<S extends z.ZodType>(source: string, raw: unknown, schema: S): z.infer<S> {
  const result = schema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(formatIssues(source, result.error));
  return result.data;
}

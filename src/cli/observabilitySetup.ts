import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import type { Coordinator } from '../coordinator/coordinator.js';
import { attachObservability, ObservabilityServer, type DashboardOptions, type Observability } from '../coordinator/observability/index.js';
import { ConfigError } from './config/loadConfig.js';
import type { observabilityConfigSchema } from './config/securityConfig.js';

/**
 * The dashboard and metrics of `cohort coordinator` and `cohort simulate`: behind an observer token (from
 * `observability.tokenFile`, or fresh for the run and printed in the dashboard's link), on the coordinator's
 * port or on `observability.host`/`port`.
 */
export async function startObservability(
  coordinator: Coordinator,
  config: z.infer<typeof observabilityConfigSchema> | undefined,
  baseDir: string,
  dashboard: DashboardOptions,
  print: (line: string) => void,
): Promise<{ observability: Observability; close(): Promise<void> }> {
  const anonymous = config?.anonymous ?? false;
  if (anonymous && config?.tokenFile) throw new ConfigError('observability: set tokenFile or anonymous: true, not both');
  const tokens = config?.tokenFile ? [readToken(resolve(baseDir, config.tokenFile))] : undefined;
  const separate = config?.host !== undefined || config?.port !== undefined;
  const server = separate ? await ObservabilityServer.listen(config?.host ?? '127.0.0.1', config?.port ?? 0) : undefined;
  const observability = attachObservability(coordinator, {
    metrics: { processMetrics: true },
    dashboard,
    ...(anonymous ? { observers: 'anonymous' as const } : tokens ? { observers: { tokens } } : {}),
    ...(server ? { server } : {}),
    secure: !server && coordinator.url.startsWith('https:'),
  });
  const base = server?.url ?? coordinator.url;
  if (anonymous) {
    print(`dashboard: ${base}/   metrics: ${base}/metrics (observability.anonymous: anyone who can reach ${base} sees every site's figures)`);
  } else {
    const link = observability.token ? `${base}/?token=${observability.token}` : `${base}/?token=<the token in ${config!.tokenFile}>`;
    print(`dashboard: ${link}   metrics: ${base}/metrics with Authorization: Bearer <token>`);
  }
  return {
    observability,
    close: async () => {
      observability.close();
      await server?.close();
    },
  };
}

function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(`observability.tokenFile: cannot read ${path}: ${(e as Error).message}`);
  }
  if (text.length < 16) throw new ConfigError(`observability.tokenFile ${path} holds ${text.length} characters; an observer token needs at least 16 (e.g. \`openssl rand -base64 32 > ${path}\`)`);
  return text;
}

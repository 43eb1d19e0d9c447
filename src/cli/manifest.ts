import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, type JsonValue } from '../crypto/canonicalJson.js';
import { COHORT_VERSION, PROTOCOL_VERSION } from '../protocol/version.js';
import type { ExperimentConfig } from './config/experimentConfig.js';

const PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'socket.io', 'socket.io-client', 'zod', 'tweetnacl', 'pino', 'yaml', 'csv-parse'];

/** What produced a run: the config, its seeds, and the software that ran it. Clients' data fingerprints and
 * participants are added from the store's tables when the manifest is exported. */
export interface Manifest {
  readonly cohortVersion: string;
  readonly protocolVersion: number;
  readonly gitCommit: string;
  readonly node: string;
  readonly platform: string;
  readonly packages: Readonly<Record<string, string>>;
  readonly seeds: { readonly experiment: number };
  readonly configHash: string;
  readonly config: unknown;
  readonly createdAt: string;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2_000 }).trim();
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function packageVersions(): Record<string, string> {
  const require = createRequire(join(packageRoot, 'package.json'));
  const out: Record<string, string> = {};
  for (const name of PACKAGES) {
    try {
      const entry = require.resolve(name);
      let dir = dirname(entry);
      while (!dir.endsWith(join('node_modules', name)) && dir !== dirname(dir)) dir = dirname(dir);
      out[name] = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      out[name] = 'not installed';
    }
  }
  return out;
}

/**
 * SHA-256 of what decides the run's results (not ports, log levels or the access list, which may change
 * between a crash and its restart without changing the experiment).
 */
export function experimentHash(config: ExperimentConfig): string {
  const relevant = {
    name: config.name,
    seed: config.seed,
    rounds: config.rounds,
    model: config.model,
    training: config.training,
    strategy: config.strategy,
    standardization: config.standardization,
    // Only present when set, so the hash of runs stored before public scaling existed does not change.
    ...(config.publicScaling ? { publicScaling: config.publicScaling } : {}),
    dataDefaults: config.dataDefaults,
    clients: config.clients ?? null,
  };
  return createHash('sha256').update(canonicalJson(JSON.parse(JSON.stringify(relevant)) as JsonValue)).digest('hex');
}

export function buildManifest(config: ExperimentConfig): Manifest {
  return {
    cohortVersion: COHORT_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    gitCommit: gitCommit(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    packages: packageVersions(),
    seeds: { experiment: config.seed },
    configHash: experimentHash(config),
    config: JSON.parse(JSON.stringify(config)) as unknown,
    createdAt: new Date().toISOString(),
  };
}

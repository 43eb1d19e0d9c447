import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MIN_NODE_MAJOR, nodeMajor } from '../../src/entries/nodeSupport.js';

/**
 * A Node.js older than the one Cohort needs, if this machine has one: the system Node that a user would run
 * outside npm scripts (npm scripts put the pinned Node 22 first on PATH, so node_modules folders are skipped).
 */
export function findOldNode(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '' && !d.includes('node_modules'));
  const candidates = [...new Set([...dirs.map((d) => join(d, 'node')), '/usr/bin/node', '/usr/local/bin/node'])];
  for (const node of candidates) {
    if (!existsSync(node)) continue;
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    if (version && nodeMajor(version) < MIN_NODE_MAJOR) return node;
  }
  return undefined;
}

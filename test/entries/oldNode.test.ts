import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unsupportedNodeReason } from '../../src/entries/nodeSupport.js';
import { repoRoot } from '../helpers/cli.js';
import { findOldNode } from '../helpers/oldNode.js';

const exported = Object.keys((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports);
const oldNode = findOldNode();

describe('the Node.js version cohort-fl needs', () => {
  it('refuses every Node before 22 with one sentence that names the version and the fix, and accepts 22 and later', () => {
    expect(unsupportedNodeReason('20.20.2')).toBe('cohort-fl needs Node.js 22 or newer; this is 20.20.2: install Node 22 or `npm install -D node@22`');
    expect(unsupportedNodeReason('v21.7.3')).toMatch(/this is 21\.7\.3:/);
    expect(unsupportedNodeReason('22.0.0')).toBeUndefined();
    expect(unsupportedNodeReason('v24.1.0')).toBeUndefined();
  });

  // Skipped only where the machine has no Node older than 22 outside node_modules (the pinned one is 22).
  it.skipIf(!oldNode)('fails at import on the machine\'s older Node with that sentence, through every public entry', () => {
    for (const subpath of exported) {
      const specifier = join('cohort-fl', subpath);
      // A child inside the package resolves its own name through package.json `exports` to the built dist.
      const r = spawnSync(oldNode!, ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)}); console.log('imported')`], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
      expect(r.stdout, specifier).not.toMatch(/imported/);
      expect(r.status, specifier).toBe(1);
      expect(r.stderr, specifier).toMatch(/Error: cohort-fl needs Node\.js 22 or newer; this is \d+\.\d+\.\d+: install Node 22 or `npm install -D node@22`/);
      // The sentence comes first, not an error from a module that an old Node cannot load (node:sqlite, node-seal).
      expect(r.stderr, specifier).not.toMatch(/ERR_UNKNOWN_BUILTIN_MODULE|node:sqlite/);
    }
  });
});

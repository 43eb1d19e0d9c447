import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/** The guide's code blocks: each ```ts block names its file (```ts file=NAME.ts) and is a complete module. */
function guideFiles(): { name: string; code: string }[] {
  const text = readFileSync(join(repoRoot, 'docs/guide.md'), 'utf8');
  const blocks = [...text.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)];
  return blocks.map(([, lang, info, code]) => {
    const name = /file=(\S+)/.exec(info ?? '')?.[1];
    if (lang !== 'ts' || !name) throw new Error(`every code block of the guide must be \`\`\`ts file=NAME.ts (a tested file), got "${lang}${info}"`);
    return { name, code: code! };
  });
}

// A consumer project: its own package.json, and `cohort-fl` in its node_modules as a link to this package (as
// `npm install ../cohort` makes it), resolved through package.json's exports to the built dist/.
let dir: string;
let files: { name: string; code: string }[];
beforeAll(() => {
  files = guideFiles();
  dir = mkdtempSync(join(repoRoot, '.guide-'));
  for (const f of files) writeFileSync(join(dir, f.name), f.code);
  // A consumer's strict settings, library checks included: no error may come from our declarations or what they pull in.
  const tsconfig = { compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noUncheckedIndexedAccess: true, skipLibCheck: false, noEmit: true, types: ['node'] }, files: files.map((f) => f.name) };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cohort-guide-check', private: true, type: 'module' }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'cohort-fl'), 'dir');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the library guide (docs/guide.md)', () => {
  it('has the sections it promises, each with code', () => {
    expect(files.map((f) => f.name)).toEqual(['logistic-trainer.ts', 'first-federation.ts', 'own-tfjs-model.ts', 'strategies.ts', 'privacy.ts', 'ckks.ts', 'store.ts']);
  });

  it('type-checks every snippet against the built package, strict and with library checks on', () => {
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', dir, '--pretty', 'false'], { encoding: 'utf8' });
    const errors = (tsc.stdout + tsc.stderr).split('\n').filter((line) => /error TS\d+/.test(line));
    // tfjs 4.22's own declarations fail strict library checks (upstream: Long in hash_util, PyJsonValue index types in
    // tfjs-layers); every other file must be clean: the guide, cohort-fl's declarations, and nothing from @webgpu/types.
    const ours = errors.filter((line) => !line.startsWith('node_modules/@tensorflow/'));
    expect(ours).toEqual([]);
    expect(errors.length).toBeLessThan(30);
  });

  const programs = ['first-federation.ts', 'own-tfjs-model.ts', 'strategies.ts', 'privacy.ts', 'ckks.ts', 'store.ts'];
  for (const program of programs) {
    it(`runs ${program} to its end`, () => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(dir, program)], { cwd: dir, encoding: 'utf8', env: { ...process.env, COHORT_BACKEND: 'cpu' }, timeout: 120_000 });
      expect(out.length).toBeGreaterThan(0);
      if (program === 'first-federation.ts') expect(out).toMatch(/^round 5: federated accuracy 0\.9\d\d$/m);
      if (program === 'privacy.ts') expect(out).toMatch(/^round 4: epsilon [0-8]\.\d\d \(delta 0\.00001\)/m);
      if (program === 'ckks.ts') expect(out).toMatch(/^the coordinator holds 0 tensors and \d+ bytes of ciphertext$/m);
      if (program === 'strategies.ts') expect(out).toMatch(/^krum: accuracy \d\.\d{3}, runs in plain$/m);
    });
  }
});

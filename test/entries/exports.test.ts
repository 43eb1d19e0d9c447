import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// The package as a consumer gets it: a child Node imports `cohort-fl` and its subpaths by name. Inside the package,
// Node resolves its own name through package.json `exports` to the built dist/ (npm test builds before vitest runs).
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; import: string }> };
const SUBPATHS = ['.', './coordinator', './client', './privacy', './simulation'];
const specifier = (subpath: string) => join('cohort-fl', subpath);

interface ChildReport {
  readonly names: Record<string, string[]>;
  readonly rootAlsoIn: Record<string, string[]>;
  readonly conflicts: string[];
  readonly warningsAfterImport: string[];
  readonly warningsAfterStore: string[];
  readonly storedRuns: string[];
  readonly deepImport: string;
}

const CHILD = `
const warnings = [];
process.on('warning', (w) => warnings.push(w.name + ': ' + w.message));
const settle = () => new Promise((r) => setTimeout(r, 50));
const specifiers = ${JSON.stringify(SUBPATHS.map(specifier))};
const modules = {};
for (const s of specifiers) modules[s] = await import(s);
await settle();
const warningsAfterImport = [...warnings];
const names = Object.fromEntries(specifiers.map((s) => [s, Object.keys(modules[s]).sort()]));
const root = modules['cohort-fl'];
const rootAlsoIn = Object.fromEntries(Object.keys(root).map((n) => [n, specifiers.slice(1).filter((s) => modules[s][n] === root[n])]));
const conflicts = [];
for (const a of specifiers) for (const b of specifiers) for (const n of Object.keys(modules[a]))
  if (a < b && n in modules[b] && modules[a][n] !== modules[b][n]) conflicts.push(n + ' in ' + a + ' and ' + b);
const { RunStore } = modules['cohort-fl/coordinator'];
const store = new RunStore(':memory:');
store.createRun({ id: 'run-1', name: 'exports', configHash: 'h', manifest: {}, roundsPlanned: 1 });
const storedRuns = store.runs().map((r) => r.id);
store.close();
await settle();
let deepImport = 'imported';
try { await import('cohort-fl/dist/cli/simulate.js'); } catch (e) { deepImport = e.code; }
console.log(JSON.stringify({ names, rootAlsoIn, conflicts, warningsAfterImport, warningsAfterStore: warnings.slice(warningsAfterImport.length), storedRuns, deepImport }));
`;

let report: ChildReport;
beforeAll(() => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`importing the built package failed (exit ${r.status}):\n${r.stderr}`);
  report = JSON.parse(r.stdout) as ChildReport;
});

describe('the published entry points', () => {
  it('are the root and four subpaths, each with its types and module in dist/', () => {
    expect(Object.keys(pkg.exports)).toEqual(SUBPATHS);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      expect(target.types, subpath).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(target.import, subpath).toMatch(/^\.\/dist\/.*\.js$/);
      expect(existsSync(join(repoRoot, target.types)), target.types).toBe(true);
      expect(existsSync(join(repoRoot, target.import)), target.import).toBe(true);
    }
  });

  it('keep the root to what a newcomer needs, each root value also exported by a subpath', () => {
    expect(report.names['cohort-fl']).toEqual(['Coordinator', 'FedAvg', 'RunError', 'TfjsTrainer', 'loadCsvData', 'selectBackend', 'startClient']);
    for (const [name, subpaths] of Object.entries(report.rootAlsoIn)) expect(subpaths, name).not.toEqual([]);
  });

  it('put the rest under the subpaths, a name never bound to two different things', () => {
    const has = (subpath: string, wanted: string[]) => expect(report.names[specifier(subpath)]).toEqual(expect.arrayContaining(wanted));
    has('./coordinator', ['Coordinator', 'FedAvg', 'FedAdam', 'Krum', 'Scaffold', 'StreamingMean', 'DpMean', 'RunStore', 'attachDashboard', 'AccessList', 'verifyAuditLog']);
    has('./client', ['startClient', 'TfjsTrainer', 'selectBackend', 'loadCsvData', 'buildModel', 'planDpSgd', 'applyPublicScaling', 'readSecretKeyFile']);
    has('./privacy', ['RdpAccountant', 'noiseMultiplierForEpsilon', 'epsilonFromRdp', 'clipToNorm', 'fillGaussian', 'nextClipNorm']);
    has('./simulation', ['simulate', 'experimentConfigSchema', 'createStrategy', 'dirichletPartition', 'ByzantineTrainer', 'createSeededRng']);
    expect(report.conflicts).toEqual([]);
  });

  it('export no CLI internals and refuse deep imports into dist/', () => {
    const all = Object.values(report.names).flat();
    for (const internal of ['buildProgram', 'runCoordinator', 'loadConfig', 'configBaseDir', 'hostInWorkers', 'formatRound', 'ConfigError']) {
      expect(all, internal).not.toContain(internal);
    }
    expect(report.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('print nothing on import: node:sqlite (and its ExperimentalWarning) loads only when a store is opened', () => {
    expect(report.warningsAfterImport).toEqual([]);
    expect(report.storedRuns).toEqual(['run-1']);
    // The control: on the pinned Node 22, opening a store does load node:sqlite, and the child would have seen it.
    expect(report.warningsAfterStore).toEqual([expect.stringMatching(/^ExperimentalWarning: SQLite is an experimental feature/)]);
  });
});

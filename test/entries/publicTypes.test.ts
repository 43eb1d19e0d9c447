import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// The declarations a consumer's compiler reads: dist/**/*.d.ts behind each entry of package.json `exports`.
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, { types: string }> };
const dist = join(repoRoot, 'dist') + sep;
const cli = join(dist, 'cli') + sep;
// What the CLI's folder offers library users on purpose: an experiment config and the simulation that runs it.
const CLI_EXPORTS = ['simulate', 'SimulationOptions', 'SimulationResult', 'experimentConfigSchema', 'ExperimentConfig', 'ExperimentConfigInput', 'createStrategy'];

let program: ts.Program;
let checker: ts.TypeChecker;
beforeAll(() => {
  const files = Object.values(pkg.exports).map((e) => join(repoRoot, e.types));
  program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
  });
  checker = program.getTypeChecker();
});

/** Each export of an entry, with the symbol it stands for (through `export { x } from`). */
function exportsOf(types: string): { name: string; symbol: ts.Symbol }[] {
  const file = program.getSourceFile(join(repoRoot, types));
  const module = file && checker.getSymbolAtLocation(file);
  if (!module) throw new Error(`${types} did not load`);
  return checker.getExportsOfModule(module).map((s) => ({ name: s.name, symbol: s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s }));
}

const ours = (symbol: ts.Symbol | undefined) => symbol?.declarations?.some((d) => d.getSourceFile().fileName.startsWith(dist)) ?? false;
const hidden = (symbol: ts.Symbol) =>
  symbol.name.startsWith('#') ||
  (symbol.declarations ?? []).some((d) => ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected));

/**
 * Every place an `any` can be reached from a public export: walks our own types (members, signatures, index
 * signatures) and the type arguments of any generic (Promise<RunResult>, Readonly<...>), not the insides of
 * third-party types. An unresolved import in a .d.ts is an error type, which is an `any` too, so it is caught here.
 */
function anyPaths(root: string, rootType: ts.Type): string[] {
  const found: string[] = [];
  const seen = new Set<ts.Type>();
  const visitSignature = (sig: ts.Signature, path: string) => {
    for (const p of sig.getParameters()) visit(checker.getTypeOfSymbol(p), `${path}(${p.name})`);
    visit(checker.getReturnTypeOfSignature(sig), `${path}()`);
  };
  const visit = (type: ts.Type, path: string): void => {
    if (type.flags & ts.TypeFlags.Any) {
      found.push(path);
      return;
    }
    if (seen.has(type)) return;
    seen.add(type);
    for (const t of type.aliasTypeArguments ?? []) visit(t, `${path}<>`);
    if (type.isUnionOrIntersection()) for (const t of type.types) visit(t, path);
    if (!(type.flags & ts.TypeFlags.Object)) return;
    const object = type as ts.ObjectType;
    if (object.objectFlags & ts.ObjectFlags.Reference) for (const t of checker.getTypeArguments(object as ts.TypeReference)) visit(t, `${path}<>`);
    if (!ours(type.getSymbol()) && !ours(type.aliasSymbol)) return;
    for (const member of checker.getPropertiesOfType(type)) {
      if (ours(member) && !hidden(member)) visit(checker.getTypeOfSymbol(member), `${path}.${member.name}`);
    }
    for (const sig of type.getCallSignatures()) visitSignature(sig, path);
    for (const sig of type.getConstructSignatures()) visitSignature(sig, `new ${path}`);
    for (const info of checker.getIndexInfosOfType(type)) visit(info.type, `${path}[]`);
  };
  visit(rootType, root);
  return found;
}

describe('the public types', () => {
  it("reach WebGPU declarations only through tfjs-core's own reference, never through Cohort or the optional webgpu packages", () => {
    // The webgpu backend is optional and loaded at run time: neither its packages nor their types may be reachable from
    // an entry. @tensorflow/tfjs-core@4.22's tensor.d.ts has `/// <reference types="@webgpu/types" />` itself (its
    // pinned 0.1.38), so any API typed with tfjs tensors reaches that one file; under `skipLibCheck: false` with a
    // DOM-less `lib` it and tfjs's webgl declarations report errors that no Cohort declaration causes (README).
    const files = program.getSourceFiles();
    expect(files.map((f) => f.fileName).filter((f) => /node_modules\/(webgpu|@tensorflow\/tfjs-backend-webgpu)\//.test(f))).toEqual([]);
    const ownWebgpu = files
      .filter((f) => f.fileName.startsWith(dist))
      .flatMap((f) => [...f.typeReferenceDirectives.map((r) => r.fileName), ...f.referencedFiles.map((r) => r.fileName), ...f.statements.flatMap((st) => (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? [st.moduleSpecifier.text] : [])])
      .filter((name) => /webgpu/i.test(name));
    expect(ownWebgpu).toEqual([]);
    const webgpuTypes = files.filter((f) => /node_modules\/@webgpu\/types\//.test(f.fileName));
    const referrers = files.filter((f) => f.typeReferenceDirectives.some((r) => r.fileName === '@webgpu/types')).map((f) => f.fileName.replace(/^.*node_modules\//, ''));
    expect(webgpuTypes.length).toBeLessThanOrEqual(1);
    expect(referrers.every((f) => f.startsWith('@tensorflow/tfjs-core/'))).toBe(true);
  });

  it('declare no `any` anywhere a consumer can reach from an export', () => {
    const found: string[] = [];
    for (const [subpath, entry] of Object.entries(pkg.exports)) {
      for (const { name, symbol } of exportsOf(entry.types)) {
        const where = `${subpath} ${name}`;
        if (symbol.flags & ts.SymbolFlags.Value) found.push(...anyPaths(where, checker.getTypeOfSymbol(symbol)));
        if (symbol.flags & ts.SymbolFlags.Type) found.push(...anyPaths(where, checker.getDeclaredTypeOfSymbol(symbol)));
      }
    }
    expect(found).toEqual([]);
  });

  it('catch an `any` when one is there (the check above is not vacuous)', () => {
    const file = ts.createSourceFile(join(dist, 'probe.d.ts'), 'export interface Probe { ok: number; loose: { deep: any[] } }', ts.ScriptTarget.ES2023, true);
    const host = ts.createCompilerHost({});
    const probe = ts.createProgram([file.fileName], { noEmit: true }, { ...host, getSourceFile: (f, v) => (f === file.fileName ? file : host.getSourceFile(f, v)) });
    const saved = checker;
    checker = probe.getTypeChecker();
    try {
      const symbol = checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)[0]!;
      expect(anyPaths('Probe', checker.getDeclaredTypeOfSymbol(symbol))).toEqual(['Probe.loose.deep<>']);
    } finally {
      checker = saved;
    }
  });

  it('give the root about twenty names, types included, and take from the CLI only the experiment config and simulate()', () => {
    const root = exportsOf(pkg.exports['.']!.types).map((e) => e.name).sort();
    expect(root).toEqual([
      'ClientHandle', 'ClientOptions', 'Coordinator', 'CoordinatorOptions', 'EvaluateConfig', 'EvaluateOutcome', 'FedAvg', 'FedAvgOptions',
      'FitConfig', 'FitOutcome', 'Metrics', 'NamedTensor', 'RoundRecord', 'RunError', 'RunResult', 'Strategy', 'TfjsTrainer',
      'TfjsTrainerOptions', 'Trainer', 'TrainerDescription', 'Weights', 'loadCsvData', 'selectBackend', 'startClient',
    ]);
    const fromCli = Object.values(pkg.exports).flatMap((e) =>
      exportsOf(e.types).filter(({ symbol }) => symbol.declarations?.some((d) => d.getSourceFile().fileName.startsWith(cli))).map((x) => x.name),
    );
    expect([...new Set(fromCli)].sort()).toEqual([...CLI_EXPORTS].sort());
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Application, DeclarationReflection, Logger, LogLevel, ReflectionKind, TSConfigReader, type ProjectReflection, type TypeDocOptions } from 'typedoc';
import { repoRoot } from './cli.js';

/** Collects what TypeDoc would print as warnings or errors, instead of printing them. */
class CollectingLogger extends Logger {
  readonly problems: string[] = [];
  override log(message: string, level: LogLevel): void {
    if (level >= LogLevel.Warn) this.problems.push(message);
  }
}

// Properties of interfaces and classes, own and visible: the fields of option and result types a user fills in or
// reads. TypeDoc's own `notDocumented` check would also demand comments on every member of types inferred from zod
// schemas (the config shapes, documented field by field in the README's tables), so members are checked here.
function undocumentedMembers(project: ProjectReflection): string[] {
  const found: string[] = [];
  for (const member of project.getReflectionsByKind(ReflectionKind.Property) as DeclarationReflection[]) {
    const owner = member.parent;
    if (!owner?.kindOf(ReflectionKind.Interface | ReflectionKind.Class)) continue;
    if (member.inheritedFrom || member.flags.isPrivate || member.hasComment()) continue;
    found.push(`${member.getFriendlyFullName()} (Property) does not have any documentation`);
  }
  return [...new Set(found)];
}

/**
 * Runs TypeDoc as `npm run docs` does (typedoc.json, then `overrides`), converting and validating without writing,
 * and returns every problem it reports (broken links, referenced types left out, undocumented exports) plus the
 * undocumented properties of exported interfaces and classes.
 */
export async function apiReferenceProblems(overrides: TypeDocOptions = {}): Promise<string[]> {
  // typedoc.json merged by hand (not TypeDoc's reader) so that an override's tsconfig is the one TypeDoc reads.
  const config = JSON.parse(readFileSync(join(repoRoot, 'typedoc.json'), 'utf8')) as TypeDocOptions;
  // npm test type-checks with tsc before vitest runs; TypeDoc's own pass would repeat it (2 to 3x the CPU time here).
  const app = await Application.bootstrapWithPlugins({ ...config, skipErrorChecking: true, ...overrides }, [new TSConfigReader()]);
  const logger = new CollectingLogger();
  app.logger = logger;
  const project = await app.convert();
  if (!project) return [...logger.problems, 'TypeDoc could not convert the project'];
  app.validate(project);
  return [...logger.problems, ...undocumentedMembers(project)];
}

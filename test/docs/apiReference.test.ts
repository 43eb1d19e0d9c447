import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiReferenceProblems } from '../helpers/apiReference.js';
import { repoRoot } from '../helpers/cli.js';

// The API reference (`npm run docs`, typedoc.json) is generated from the five entry points' types. This is its CI
// check: every exported name, method and interface field documented, every {@link} resolving, every type the API
// mentions reachable from an entry point.
describe('the API reference', () => {
  it('has no undocumented export, broken link or unexported type in any entry point', async () => {
    const problems = await apiReferenceProblems();
    expect(problems, `fix these in the source's doc comments:\n${problems.join('\n')}`).toEqual([]);
  });

  it('catches each kind of problem (control: a fixture with one of each)', async () => {
    const fixtures = join(repoRoot, 'test/docs/fixtures');
    const problems = await apiReferenceProblems({ entryPoints: [join(fixtures, 'undocumentedApi.ts')], tsconfig: join(fixtures, 'tsconfig.json') });
    const about = (pattern: RegExp) => problems.filter((p) => pattern.test(p));
    expect(about(/NoSuchThing/), problems.join('\n')).toHaveLength(1);
    expect(about(/Hidden.*referenced by.*undocumented.*not included/), problems.join('\n')).toHaveLength(1);
    expect(about(/^undocumented .*does not have any documentation/), problems.join('\n')).toHaveLength(1);
    expect(about(/FixtureOptions\.colour \(Property\).*does not have any documentation/), problems.join('\n')).toHaveLength(1);
    expect(about(/documented|FixtureOptions\.size/).filter((p) => /^(documented|FixtureOptions\.size|FixtureOptions) /.test(p))).toEqual([]);
  });
});

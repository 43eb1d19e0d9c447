import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCsvData } from '../../src/client/data/index.js';
import { dataSchemaYaml } from '../../src/cli/config/dataSchemaConfig.js';
import { freePort, repoRoot, runCli } from '../helpers/cli.js';

const hospitals = join(repoRoot, 'examples/breast-cancer/data/hospitals');

/** A copy of a hospital's CSV with two columns swapped (header and cells: the file is consistent, the order is not). */
function swapColumns(from: string, to: string, a: number, b: number): void {
  const lines = readFileSync(from, 'utf8').trimEnd().split('\n').map((line) => {
    const cells = line.split(',');
    [cells[a], cells[b]] = [cells[b]!, cells[a]!];
    return cells.join(',');
  });
  writeFileSync(to, `${lines.join('\n')}\n`);
}

/** A copy with one more feature column ('foo'). */
function addColumn(from: string, to: string): void {
  const lines = readFileSync(from, 'utf8').trimEnd().split('\n').map((line, i) => `${i === 0 ? 'foo' : '0'},${line}`);
  writeFileSync(to, `${lines.join('\n')}\n`);
}

describe('the data schema is checked across sites before round 1', () => {
  it('refuses a site whose CSV has two columns swapped, and one with a column too many, in column terms, before any training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-schema-'));
    swapColumns(join(hospitals, 'south.csv'), join(dir, 'south-swapped.csv'), 2, 3);
    addColumn(join(hospitals, 'south.csv'), join(dir, 'south-extra.csv'));
    // The study's schema, pinned in the experiment as the coordinator prints it for the first site.
    const pinned = dataSchemaYaml(loadCsvData({ path: join(hospitals, 'north.csv'), label: 'target' }).meta.schema!);
    const port = await freePort();
    writeFileSync(
      join(dir, 'coordinator.yaml'),
      `name: schema\nrounds: 1\nmodel: { type: mlp, hidden: [4], outputs: 1, inputs: 30 }\nstrategy: { minFitClients: 2 }\n` +
        `access: { mode: open }\ncoordinator: { port: ${port}, waitForClientsSeconds: 60 }\nstore: { path: cohort.db }\n${pinned}\n`,
    );
    const client = (name: string, csv: string) => {
      writeFileSync(join(dir, `${name}.yaml`), `name: ${name}\ncoordinator: http://127.0.0.1:${port}\nmodel: { type: mlp, hidden: [4], outputs: 1 }\ndata: { path: ${csv}, label: target }\n`);
      return runCli(['client', '--config', join(dir, `${name}.yaml`)]);
    };
    const coordinator = runCli(['coordinator', '--config', join(dir, 'coordinator.yaml')]);
    const [swapped, extra] = await Promise.all([client('south', join(dir, 'south-swapped.csv')), client('west', join(dir, 'south-extra.csv'))]);
    // Both refused for good at connect time: status 1, the difference in columns, no round trained.
    expect(swapped.code).toBe(1);
    expect(swapped.stdout).toMatch(/^refused: site south: columns 3 and 4 swapped \(mean_perimeter, mean_area\) against the study's schema$/m);
    expect(swapped.stdout).not.toMatch(/round \d: trained/);
    expect(extra.code).toBe(1);
    expect(extra.stdout).toMatch(/^refused: site west: 31 feature columns, the study has 30: extra column 'foo' against the study's schema$/m);
    expect(extra.stdout).not.toMatch(/expected shape/);
    // The two good sites then run the study to its end; the coordinator printed both refusals.
    const good = await Promise.all([client('north', join(hospitals, 'north.csv')), client('central', join(hospitals, 'central.csv'))]);
    const c = await coordinator;
    expect(c.code).toBe(0);
    expect(c.stderr).not.toMatch(/install our node backend/);
    expect(c.stdout).toMatch(/^data schema pinned: 30 columns, label target; sites with other columns are refused$/m);
    expect(c.stdout).toMatch(/^refused: site south: columns 3 and 4 swapped \(mean_perimeter, mean_area\)/m);
    expect(c.stdout).toMatch(/^refused: site west: 31 feature columns/m);
    expect(c.stdout).toMatch(/^round 1\/1 {2}clients 2\/2 /m);
    expect(c.stdout).toMatch(/^run \S+ ended: the dashboard at http:\/\/127\.0\.0\.1:\d+\/ closes with this coordinator; its rounds stay in the store/m);
    for (const g of good) expect(g.code).toBe(0);
  });
});

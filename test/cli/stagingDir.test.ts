import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { createStrategy } from '../../src/cli/createStrategy.js';
import { stagingDirReport, uploadParameters } from '../../src/cli/stagingDir.js';
import { FILE_STAGING_MIN_PARAMETERS } from '../../src/coordinator/aggregation/streamingMean.js';

const BIG = FILE_STAGING_MIN_PARAMETERS;
const config = (coordinator: Record<string, unknown>, strategy: Record<string, unknown> = {}) =>
  experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, coordinator, strategy: { minFitClients: 1, ...strategy } });
const isTmpfs = (dir: string) => {
  try {
    return statfsSync(dir).type === 0x01021994;
  } catch {
    return false;
  }
};

describe('coordinator.stagingDir: where a big model\'s updates wait during a round', () => {
  it('reaches the strategy\'s streaming mean, resolved against the config file\'s directory', async () => {
    const base = mkdtempSync(join(tmpdir(), 'cohort-staging-base-'));
    try {
      const strategy = createStrategy(config({ stagingDir: 'not-made-yet' }), undefined, base);
      const mean = strategy.createAggregator();
      mean.bind([{ name: 'w', shape: [BIG] }]);
      // The directory does not exist: the first update says where it tried, so the option arrived.
      await expect(mean.begin(1).accept('a', 1)).rejects.toThrow(new RegExp(`creating a staging file in ${join(base, 'not-made-yet')} failed \\(ENOENT\\)`));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('is refused for a strategy that keeps every update in memory', () => {
    expect(() => createStrategy(config({ stagingDir: '/var/tmp' }, { name: 'fedmedian' }))).toThrow(/coordinator.stagingDir does not apply to strategy fedmedian: it keeps every update in memory/);
  });

  it('is checked at start for a big model: a missing directory is refused naming the option', () => {
    expect(stagingDirReport('/no/such/cohort/dir', 1_000_000)).toBeUndefined(); // a small model stages in memory
    expect(() => stagingDirReport('/no/such/cohort/dir', BIG)).toThrow(/coordinator.stagingDir: updates of this 16777216-parameter model stage in files in \/no\/such\/cohort\/dir, which is not a writable directory/);
  });

  it('says how much a round may write there against the free space', () => {
    const dir = mkdtempSync(join(process.cwd(), 'node_modules', '.cohort-staging-'));
    try {
      // (4 waiting + 2 in flight) x 4 bytes + an 8-byte partial sum, a parameter.
      expect(stagingDirReport(dir, 100_000_000)).toMatch(new RegExp(`^updates stage on disk in ${dir}: up to 3\\.2 GB a round, [0-9.]+ GB free`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(isTmpfs('/dev/shm'))('warns when the directory is a tmpfs: the files would sit in memory', () => {
    expect(stagingDirReport('/dev/shm', BIG)).toMatch(/; it is a tmpfs, held in memory, not on disk: set coordinator.stagingDir to a directory on disk$/);
  });

  it('counts an update as the model, or twice it under SCAFFOLD', () => {
    const model = [{ data: new Float32Array(10) }, { data: new Float32Array(5) }];
    expect(uploadParameters({ strategy: { name: 'fedavg' } }, model)).toBe(15);
    expect(uploadParameters({ strategy: { name: 'scaffold' } }, model)).toBe(30);
  });
});

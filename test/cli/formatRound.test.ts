import { describe, expect, it } from 'vitest';
import { formatRound } from '../../src/cli/formatRound.js';
import type { RoundRecord } from '../../src/coordinator/roundRecord.js';

const record = (privacy?: RoundRecord['privacy']): RoundRecord => ({
  round: 3,
  attempts: 1,
  fit: { selected: 2, outcomes: [{ client: 'a' }, { client: 'b' }], metrics: {}, durationMs: 10 },
  durationMs: 20,
  ...(privacy ? { privacy } : {}),
});

describe('the round line', () => {
  it('says which sampling the accountant assumed', () => {
    const publicCohort = formatRound(record({ epsilon: 2.5, delta: 1e-5, noiseMultiplier: 1.1, sampleRate: 1, cohortFraction: 0.5, sampling: 'public-cohort' }), 10);
    expect(publicCohort).toContain('epsilon 2.500 (delta 0.00001; q 1: public cohort)');
    const other = formatRound(record({ epsilon: 2.5, delta: 1e-5, noiseMultiplier: 1.1, sampleRate: 0.25 }), 10);
    expect(other).toContain('epsilon 2.500 (delta 0.00001; q 0.25)');
    const replaceOne = formatRound(record({ epsilon: 2.5, delta: 1e-5, noiseMultiplier: 1.1, adjacency: 'replace-one', chargedMultiplier: 0.55, sampleRate: 1, sampling: 'public-cohort' }), 10);
    expect(replaceOne).toContain('epsilon 2.500 (delta 0.00001; q 1: public cohort; replace-one)');
    expect(formatRound(record(), 10)).not.toContain('epsilon');
  });
});

import { describe, expect, it } from 'vitest';
import { ScaffoldMember, fitDownloadModel, fitDownloadSpec, isScaffoldTask } from '../../src/client/scaffoldMember.js';
import type { Trainer } from '../../src/client/trainer.js';
import { SCAFFOLD_EXTRA_KEY, joinScaffold, scaffoldSpec } from '../../src/protocol/scaffoldWire.js';
import { specOf, type Weights } from '../../src/protocol/tensors.js';
import { LinearTrainer } from '../helpers/linearTrainer.js';

const model = (w0: number, w1: number, b: number): Weights => [
  { name: 'w', shape: [2], data: Float32Array.from([w0, w1]) },
  { name: 'b', shape: [1], data: Float32Array.from([b]) },
];
const flat = (w: Weights) => w.flatMap((t) => Array.from(t.data));
const config = { round: 1, epochs: 2, batchSize: 4, learningRate: 0.1, extra: { [SCAFFOLD_EXTRA_KEY]: true } };
const download = joinScaffold(model(0, 0, 0), model(0.5, -0.5, 0.25)); // x = 0, c = [0.5, -0.5, 0.25]

/** One SCAFFOLD round of a LinearTrainer on two points; returns the upload and the correction it trained with. */
async function round(member: ScaffoldMember, runId: string, commit: boolean) {
  const trainer = new LinearTrainer([[1, 0], [0, 1]], [1, -1]);
  let correction: Weights | undefined;
  const spy: Trainer = {
    describe: () => trainer.describe(),
    getWeights: () => trainer.getWeights(),
    setWeights: (w) => trainer.setWeights(w),
    fit: (c) => trainer.fit(c),
    evaluate: (c) => trainer.evaluate(c),
    fitWithCorrection: (c, corr) => ((correction = corr), trainer.fitWithCorrection(c, corr)),
  };
  const r = member.begin(download, config, { runId, localPrivacy: false });
  spy.setWeights(r.global);
  await r.fit(spy, config);
  const upload = r.upload(trainer.getWeights());
  if (commit) r.commit();
  return { upload, correction: flat(correction!) };
}

describe("a client's SCAFFOLD state (ScaffoldMember)", () => {
  it('reads the task flag and the download layout', () => {
    expect(isScaffoldTask(config)).toBe(true);
    expect(isScaffoldTask({ extra: { [SCAFFOLD_EXTRA_KEY]: 1 } })).toBe(false);
    expect(isScaffoldTask({})).toBe(false);
    const spec = specOf(model(0, 0, 0));
    expect(fitDownloadSpec(config, spec)).toEqual(scaffoldSpec(spec));
    expect(fitDownloadSpec({}, spec)).toEqual(spec);
    expect(flat(fitDownloadModel(config, download))).toEqual([0, 0, 0]);
  });

  it('starts from c_i = 0, adopts c_i+ only on commit, and forgets it in another run', async () => {
    const member = new ScaffoldMember();
    const first = await round(member, 'run-1', false);
    expect(first.correction).toEqual([0.5, -0.5, 0.25]); // c - 0
    // Not committed (the upload was not sent): the next round still starts from c_i = 0.
    const again = await round(member, 'run-1', true);
    expect(again.correction).toEqual([0.5, -0.5, 0.25]);
    expect(again.upload.map((t) => t.name)).toEqual(scaffoldSpec(specOf(model(0, 0, 0))).map((t) => t.name));
    // Committed: c_i = delta_c of that round (c_i was 0), so the correction is c - delta_c.
    const deltaC = flat(again.upload).slice(3);
    const third = await round(member, 'run-1', true);
    third.correction.forEach((v, i) => expect(v).toBeCloseTo([0.5, -0.5, 0.25][i]! - deltaC[i]!, 6));
    // A new run starts again from zeros.
    expect((await round(member, 'run-2', false)).correction).toEqual([0.5, -0.5, 0.25]);
  });

  it('refuses DP rounds, trainers without the seam, and out-of-order calls', async () => {
    const member = new ScaffoldMember();
    expect(() => member.begin(download, { ...config, extra: { ...config.extra, clipNorm: 1 } }, { runId: 'r', localPrivacy: false })).toThrow(
      'SCAFFOLD cannot run with differential privacy (central clipping or local DP): its control update delta_c reveals the unclipped model update',
    );
    expect(() => member.begin(download, config, { runId: 'r', localPrivacy: true })).toThrow(/cannot run with differential privacy/);
    const r = member.begin(download, config, { runId: 'r', localPrivacy: false });
    expect(() => r.upload(model(0, 0, 0))).toThrow('a SCAFFOLD round uploads only after it trained');
    expect(() => r.commit()).toThrow('a SCAFFOLD round commits only after its upload');
    const plain = new LinearTrainer([[1, 0]], [1]);
    const bare: Trainer = { describe: () => plain.describe(), getWeights: () => plain.getWeights(), setWeights: (w) => plain.setWeights(w), fit: (c) => plain.fit(c), evaluate: (c) => plain.evaluate(c) };
    await expect(r.fit(bare, config)).rejects.toThrow("this client's trainer cannot take SCAFFOLD tasks: it does not implement fitWithCorrection");
  });
});

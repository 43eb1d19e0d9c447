import { describe, expect, it } from 'vitest';
import { FedAdagrad } from '../../../src/coordinator/strategies/fedAdagrad.js';
import { FedAdam } from '../../../src/coordinator/strategies/fedAdam.js';
import { FedAvgM } from '../../../src/coordinator/strategies/fedAvgM.js';
import { FedYogi } from '../../../src/coordinator/strategies/fedYogi.js';
import { Scaffold } from '../../../src/coordinator/strategies/scaffold.js';
import { StrategyStateError, decodeFloat32, encodeFloat32 } from '../../../src/coordinator/strategies/strategyState.js';
import type { Strategy } from '../../../src/coordinator/strategy.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { fit, runRound, weights, type Upload } from './harness.js';

const bytes = (w: Weights) => Buffer.concat(w.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));

type Stateful = Strategy & { state(): unknown; restore(state: unknown): void; fitPayload?(global: Weights): Weights };

/** What a strategy's state changes that clients see: the next model and, for SCAFFOLD, the control variate it sends. */
const observable = (s: Stateful, w: Weights) => Buffer.concat([bytes(w), ...(s.fitPayload ? [bytes(s.fitPayload(w))] : [])]);

/** Deterministic, irregular deltas (not exactly representable sums), `width` values each. */
function uploadsFor(round: number, width: number): Upload[] {
  return ['a', 'b', 'c'].map((client, k) => ({
    client,
    weight: 3 + k * 7,
    values: Array.from({ length: width }, (_, i) => Math.sin(round * 12.9898 + i * 78.233 + k * 3.1) * (1 + i)),
  }));
}


const cases: [string, () => Stateful, number][] = [
  ['FedAvgM', () => new FedAvgM({ fit, serverMomentum: 0.7 }), 1],
  ['FedAdam', () => new FedAdam({ fit }), 1],
  ['FedYogi', () => new FedYogi({ fit }), 1],
  ['FedAdagrad', () => new FedAdagrad({ fit, beta1: 0.3 }), 1],
  ['SCAFFOLD', () => new Scaffold({ fit, totalClients: 5 }), 2],
];

describe.each(cases)('%s state through state()/restore()', (_name, create, uploadFactor) => {
  const global0 = weights([0.5, -1, 2], [0.25]);
  const width = 4 * uploadFactor;

  it('JSON round trip: the restored strategy makes bit-identical updates', async () => {
    const original = create();
    let global = original.initialize(global0);
    for (let r = 1; r <= 2; r++) global = (await runRound(original, global, uploadsFor(r, width), r)).weights;
    const saved: unknown = JSON.parse(JSON.stringify(original.state()));

    const restored = create();
    restored.restore(saved);
    expect(restored.state()).toEqual(original.state());
    let a = global;
    let b = global;
    for (let r = 3; r <= 4; r++) {
      a = (await runRound(original, a, uploadsFor(r, width), r)).weights;
      b = (await runRound(restored, b, uploadsFor(r, width), r)).weights;
      expect(observable(restored, b).equals(observable(original, a))).toBe(true);
    }
    expect(restored.state()).toEqual(original.state());
  });

  it('restoring is not a no-op: a fresh strategy makes a different update', async () => {
    const original = create();
    let global = original.initialize(global0);
    for (let r = 1; r <= 2; r++) global = (await runRound(original, global, uploadsFor(r, width), r)).weights;
    const fresh = create();
    const a = (await runRound(original, global, uploadsFor(3, width), 3)).weights;
    const b = (await runRound(fresh, global, uploadsFor(3, width), 3)).weights;
    expect(observable(original, a).equals(observable(fresh, b))).toBe(false);
  });

  it('a state taken before any round restores to a fresh strategy; initialize() forgets the state', async () => {
    const s = create();
    const empty = JSON.parse(JSON.stringify(s.state())) as Record<string, unknown>;
    expect(Object.values(empty).filter((v) => v !== null)).toEqual([empty.strategy]);
    await runRound(s, global0, uploadsFor(1, width), 1);
    expect(s.state()).not.toEqual(empty);
    s.restore(empty);
    expect(s.state()).toEqual(empty);
    await runRound(s, global0, uploadsFor(1, width), 1);
    s.initialize(global0);
    expect(s.state()).toEqual(empty);
  });

  it('stores float32 values compactly, as base64 of their bytes', async () => {
    const s = create();
    await runRound(s, global0, uploadsFor(1, width), 1);
    const fields = Object.entries(s.state() as Record<string, unknown>).filter(([k]) => k !== 'strategy');
    for (const [, v] of fields) expect(v).toMatch(/^[A-Za-z0-9+/]{22}==$/); // 4 values x 4 bytes = 16 bytes -> 24 base64 chars
  });

  it('refuses a state that is not its own, with a clear message', () => {
    const s = create();
    const good = s.state() as Record<string, unknown>;
    expect(() => s.restore(undefined)).toThrow(StrategyStateError);
    expect(() => s.restore(undefined)).toThrow(`cannot restore ${s.name} state`);
    expect(() => s.restore({ ...good, strategy: 'someone-else' })).toThrow(/cannot restore .* state/);
    expect(() => s.restore({ ...good, extra: 1 })).toThrow(StrategyStateError);
  });
});

describe('restore() of damaged values', () => {
  it('refuses non-base64, partial float32s, non-finite values and mismatched moments', async () => {
    const s = new FedAdam({ fit });
    await runRound(s, weights([1, 2]), [{ client: 'a', values: [1, 1] }]);
    const state = s.state();
    expect(() => s.restore({ ...state, m: 'not base64!' })).toThrow('state values are not base64');
    expect(() => s.restore({ ...state, m: Buffer.from([1, 2, 3]).toString('base64') })).toThrow('state values have 3 bytes, not a whole number of float32s');
    expect(() => s.restore({ ...state, m: encodeFloat32(Float32Array.from([1, NaN])) })).toThrow('state value 1 is not finite (NaN)');
    expect(() => s.restore({ ...state, m: encodeFloat32(Float32Array.from([1, 2, 3])) })).toThrow(/m and v must both be null or hold the same number of values \(3 and 2\)/);
    expect(() => s.restore({ ...state, m: null })).toThrow(/m and v must both be null/);
  });

  it('a state from another model is refused at the next round, naming the sizes', async () => {
    const s = new FedAvgM({ fit });
    await runRound(s, weights([1, 2, 3]), [{ client: 'a', values: [1, 1, 1] }]);
    const other = new FedAvgM({ fit });
    other.restore(s.state());
    await expect(runRound(other, weights([1, 2]), [{ client: 'a', values: [1, 1] }])).rejects.toThrow(
      'FedAvgM momentum holds 3 values but the update has 2: the state is from another model',
    );
  });

  it('encodeFloat32 / decodeFloat32 are exact, including subarrays at an offset', () => {
    const values = Float32Array.from([0.1, -3e-38, 1e30, Math.PI, -0]);
    expect(decodeFloat32(encodeFloat32(values))).toEqual(values);
    const view = values.subarray(1, 3);
    expect(Array.from(decodeFloat32(encodeFloat32(view)))).toEqual(Array.from(view));
    expect(decodeFloat32('')).toEqual(new Float32Array(0));
  });
});

import { specMismatch, specOf, type NamedTensor, type Weights } from '../protocol/tensors.js';
import { joinScaffold } from '../protocol/scaffoldWire.js';

/**
 * SCAFFOLD's client side (Karimireddy, Kale, Mohri, Reddi, Stich and Suresh 2020, "SCAFFOLD: Stochastic
 * Controlled Averaging for Federated Learning", ICML, Algorithm 1, option II), as pure functions;
 * scaffoldMember.ts holds c_i between rounds. Per round, a client holding its control variate c_i (zeros
 * before its first round, kept between rounds) that receives [x; c]:
 *   y <- x; K times: y <- y - eta_l (g_i(y) + c - c_i)          (scaffoldGradientCorrection gives c - c_i)
 *   c_i+ = c_i - c + (x - y) / (K eta_l)                          (option II)
 *   uploads [y - x; c_i+ - c_i], then keeps c_i <- c_i+          (scaffoldClientUpdate)
 */

function combine(a: Weights, b: Weights, what: string, f: (x: number, y: number, i: number, t: number) => number): Weights {
  const mismatch = specMismatch(specOf(a), specOf(b));
  if (mismatch) throw new Error(`${what}: ${mismatch}`);
  return a.map((t, ti): NamedTensor => {
    const other = b[ti]!.data;
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < data.length; i++) data[i] = f(t.data[i]!, other[i]!, i, ti);
    return { name: t.name, shape: [...t.shape], data };
  });
}

/** Zeros shaped like the model: a client's c_i before its first SCAFFOLD round. */
export function zeroControl(model: Weights): Weights {
  return model.map((t) => ({ name: t.name, shape: [...t.shape], data: new Float32Array(t.data.length) }));
}

/** c - c_i, added to every local gradient (Algorithm 1, line 10). */
export function scaffoldGradientCorrection(serverControl: Weights, clientControl: Weights): Weights {
  return combine(serverControl, clientControl, 'client and server control variates differ', (c, ci) => c - ci);
}

export interface ScaffoldClientRound {
  /** x: the global model the round started from. */
  readonly global: Weights;
  /** y: the model after the K corrected local steps. */
  readonly local: Weights;
  /** c, as downloaded. */
  readonly serverControl: Weights;
  /** c_i before this round. */
  readonly clientControl: Weights;
  /** K: local optimizer steps actually taken (>= 1). */
  readonly steps: number;
  /** eta_l: the local (SGD) learning rate. */
  readonly learningRate: number;
}

/**
 * Option II's control update and the upload [delta_y; delta_c], delta_c = c_i+ - c_i = -c - delta_y / (K eta_l).
 * Returns the client's next c_i too; the client should adopt it only once its upload was accepted.
 */
export function scaffoldClientUpdate(r: ScaffoldClientRound): { upload: Weights; clientControl: Weights } {
  if (!(Number.isInteger(r.steps) && r.steps >= 1)) throw new RangeError(`steps (K) must be an integer >= 1, got ${r.steps}`);
  if (!(Number.isFinite(r.learningRate) && r.learningRate > 0)) throw new RangeError(`the local learning rate must be positive, got ${r.learningRate}`);
  const scale = 1 / (r.steps * r.learningRate);
  const deltaY = combine(r.local, r.global, 'trained weights do not match the global model', (y, x) => y - x);
  const deltaC = combine(deltaY, r.serverControl, 'the server control variate does not match the model', (dy, c) => -c - dy * scale);
  const clientControl = combine(r.clientControl, deltaC, 'the client control variate does not match the model', (ci, dc) => ci + dc);
  return { upload: joinScaffold(deltaY, deltaC), clientControl };
}

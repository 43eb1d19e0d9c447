/**
 * FedProx's client-side maths (Li, Sahu, Zaheer, Sanjabi, Talwalkar and Smith 2020, "Federated Optimization
 * in Heterogeneous Networks", MLSys, Algorithm 2). Each client approximately minimizes
 *   h(w) = F_k(w) + (mu / 2) * ||w - w^t||^2
 * where w^t is the global model the round started from. Dependency-free on purpose: it belongs to the client
 * (src/client/ may not import src/coordinator/), so it can move there as it is.
 */

function checkPair(local: Float32Array, global: Float32Array, mu: number): void {
  if (local.length !== global.length) throw new RangeError(`local has ${local.length} values, global ${global.length}`);
  if (!(Number.isFinite(mu) && mu >= 0)) throw new RangeError(`mu must be a finite number >= 0, got ${mu}`);
}

/** The gradient of (mu / 2) ||w - w^t||^2 with respect to w: mu (w - w^t), added to the data gradient at every step. */
export function proximalGradientTerm(local: Float32Array, global: Float32Array, mu: number): Float32Array {
  checkPair(local, global, mu);
  const out = new Float32Array(local.length);
  for (let i = 0; i < out.length; i++) out[i] = mu * (local[i]! - global[i]!);
  return out;
}

/** The penalty (mu / 2) ||w - w^t||^2 itself, in float64 (summed over a model's tensors by the caller). */
export function proximalPenalty(local: Float32Array, global: Float32Array, mu: number): number {
  checkPair(local, global, mu);
  let s = 0;
  for (let i = 0; i < local.length; i++) {
    const d = local[i]! - global[i]!;
    s += d * d;
  }
  return (mu / 2) * s;
}

/**
 * From Rényi DP at a set of orders to (epsilon, delta)-DP. Each order gives a valid epsilon for the target delta;
 * the reported one is the smallest, with the order that achieved it (an optimum at the edge of the grid means a
 * wider grid could do better).
 */

/**
 * 'improved': Balle, Barthe, Gaboardi, Hsu and Sato 2020, "Hypothesis testing interpretations and Rényi
 * differential privacy" (AISTATS; arXiv:1905.09982, Theorem 21), also Canonne, Kamath and Steinke 2020
 * (arXiv:2004.00010, Proposition 12):
 *   epsilon = rdp + log((alpha - 1) / alpha) - (log(delta) + log(alpha)) / (alpha - 1),
 * as in current Opacus and TF Privacy / dp_accounting, with dp_accounting's two guards: an order whose RDP is so
 * small that delta^2 + expm1(-rdp) > 0 gives epsilon 0 (the KL bound delta <= sqrt(1 - exp(-rdp)) already holds),
 * and orders at or below 1.01 are skipped (the formula is unstable there and never optimal).
 * 'classic': Mironov 2017, "Rényi Differential Privacy", Proposition 3: epsilon = rdp - log(delta) / (alpha - 1),
 * what TF Privacy and Opacus used before the improvement (and what their older published numbers are).
 */
export type RdpConversion = 'improved' | 'classic';

/** Every RDP conversion: `improved` (the default) and `classic`. */
export const RDP_CONVERSIONS: readonly RdpConversion[] = ['improved', 'classic'];

/** An epsilon and the Rényi order that gives it. */
export interface EpsilonAtOrder {
  /** The smallest epsilon over the orders, never below 0; Infinity when no order gives a finite one. */
  readonly epsilon: number;
  /** The order that gave it. */
  readonly order: number;
}

function epsilonAt(order: number, rdp: number, delta: number, conversion: RdpConversion): number {
  if (conversion === 'classic') return rdp - Math.log(delta) / (order - 1);
  if (delta * delta + Math.expm1(-rdp) > 0) return 0;
  if (order > 1.01) return rdp + Math.log1p(-1 / order) - Math.log(delta * order) / (order - 1);
  return Infinity;
}

/** The (epsilon, order) pair at `delta` from RDP values at these orders: the smallest epsilon over the orders. */
export function epsilonFromRdp(orders: readonly number[], rdp: readonly number[], delta: number, conversion: RdpConversion = 'improved'): EpsilonAtOrder {
  if (orders.length === 0 || orders.length !== rdp.length) {
    throw new RangeError(`need one RDP value per order (got ${orders.length} orders and ${rdp.length} values)`);
  }
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  if (conversion !== 'improved' && conversion !== 'classic') throw new RangeError(`unknown RDP conversion "${String(conversion)}" (improved or classic)`);
  let best = Infinity;
  let bestOrder = orders[0]!;
  for (let k = 0; k < orders.length; k++) {
    const order = orders[k]!;
    const r = rdp[k]!;
    if (!(order > 1)) throw new RangeError(`a Rényi order must be > 1, got ${order}`);
    if (!(r >= 0)) throw new RangeError(`RDP must be >= 0, got ${r} at order ${order}`);
    const eps = epsilonAt(order, r, delta, conversion);
    if (eps < best) {
      best = eps;
      bestOrder = order;
    }
  }
  return { epsilon: Math.max(0, best), order: bestOrder };
}

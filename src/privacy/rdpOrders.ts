/**
 * Rényi orders alpha at which the accountant tracks RDP. epsilon is the minimum over them of a conversion, so more
 * orders can only tighten (never loosen) the bound; the grid's job is to contain the optimum, which for DP-SGD and
 * DP-FedAvg settings lies between about 1.5 (large epsilon) and a few hundred (small epsilon, much noise).
 */

/** Opacus' `RDPAccountant.DEFAULT_ALPHAS`, which is also the grid of TF Privacy's MNIST tutorials: 1.1, 1.2, ..., 10.9, 12, ..., 63. */
export const OPACUS_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
]);

/**
 * Cohort's default: Opacus' grid plus 128, 256 and 512 (`[1 + x / 10 for x in range(1, 100)] + list(range(12, 64))
 * + [128, 256, 512]`, the grid common in TF Privacy-based code), so that strongly private runs (epsilon well
 * below 1) find their optimum inside the grid. 154 orders.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([...OPACUS_RDP_ORDERS, 128, 256, 512]);

/** The grid of TF Privacy's `compute_dp_sgd_privacy` and `compute_noise` (dp_accounting era). */
export const DP_SGD_PRIVACY_ORDERS: readonly number[] = Object.freeze([
  1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
  ...Array.from({ length: 59 }, (_, i) => 5 + i),
  128, 256, 512,
]);

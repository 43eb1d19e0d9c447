/**
 * Optional data hook of a client node for federated standardization: the coordinator combines every
 * client's feature moments into one mean and std, so the same raw value means the same input everywhere
 * (per-site z-scores would shift each hospital's inputs by its own case mix).
 */
export interface FeatureScaler {
  /** Per-feature mean and mean of squares over this client's training rows (raw, unscaled). */
  moments(): { readonly rows: number; readonly mean: Float32Array; readonly meanOfSquares: Float32Array };
  /** Applies (x - mean) / std to training and test rows; std 0 marks a constant feature (maps to 0). */
  standardize(mean: Float32Array, std: Float32Array): void | Promise<void>;
}

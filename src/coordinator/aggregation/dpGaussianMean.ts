/** Kept for existing imports: DpMean with a fixed clip norm is what DpGaussianMean was. */
export { DpMean as DpGaussianMean, type DpMeanOptions as DpGaussianMeanOptions, type DpMeasurements } from './dpMean.js';

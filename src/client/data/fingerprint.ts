import { createHash } from 'node:crypto';

/**
 * SHA-256 (hex) over the ordered feature names: two clients whose fingerprints match produce feature
 * vectors with the same columns in the same order. Computed from names only, never from values.
 */
export function schemaFingerprint(featureNames: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(featureNames)).digest('hex');
}

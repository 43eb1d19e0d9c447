import type { Weights } from './tensors.js';

/**
 * What the CKKS global carries, packed in one vector: the model, then (FedAvgM) the server momentum, then
 * (adaptive clipping) log C. The coordinator only adds ciphertexts, so state a plaintext coordinator would
 * keep travels encrypted beside the model: every part is a weighted mean of what the clients upload, and the
 * clients make each part's mean equal the next round's value (see encryptedContribution.ts).
 */
export interface EncryptedLayout {
  /** The model's parameter count. */
  readonly parameters: number;
  /** A second block of `parameters` values: FedAvgM's momentum v. */
  readonly momentum: boolean;
  /** One trailing value: log C, adaptive clipping's clip norm. */
  readonly logClipNorm: boolean;
}

/** Values the layout packs: what one ciphertext upload and the encrypted global hold. */
export function layoutLength(layout: EncryptedLayout): number {
  return layout.parameters * (layout.momentum ? 2 : 1) + (layout.logClipNorm ? 1 : 0);
}

/** The decrypted state a client continues from. */
export interface EncryptedRoundState {
  readonly weights: Weights;
  /** FedAvgM's v (undefined: zeros, before the first aggregated round). */
  readonly momentum?: Float32Array;
  /** Adaptive clipping's C for the next round. */
  readonly clipNorm?: number;
}

/** Splits a decrypted vector by `layout` into the model (shaped like `shapes`), momentum and clip norm. */
export function unpackLayout(flat: Float32Array, layout: EncryptedLayout, shapes: readonly { readonly name: string; readonly shape: readonly number[] }[]): EncryptedRoundState {
  if (flat.length !== layoutLength(layout)) {
    throw new Error(`the encrypted global holds ${flat.length} values but its layout (${describeLayout(layout)}) needs ${layoutLength(layout)}`);
  }
  let at = 0;
  const weights = shapes.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const data = flat.slice(at, at + n);
    at += n;
    return { name: t.name, shape: [...t.shape], data };
  });
  if (at !== layout.parameters) throw new Error(`the model has ${at} parameters but the encrypted global was packed for ${layout.parameters}`);
  const momentum = layout.momentum ? flat.slice(at, at + layout.parameters) : undefined;
  const clipNorm = layout.logClipNorm ? Math.exp(flat[flat.length - 1]!) : undefined;
  return { weights, ...(momentum ? { momentum } : {}), ...(clipNorm !== undefined ? { clipNorm } : {}) };
}

export function describeLayout(layout: EncryptedLayout): string {
  return ['model', ...(layout.momentum ? ['momentum'] : []), ...(layout.logClipNorm ? ['log clip norm'] : [])].join(' + ');
}

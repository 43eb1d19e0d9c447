/** A named float32 tensor: the unit of model weights on the wire and in memory. */
export interface NamedTensor {
  /** The tensor's name, as the model names it. */
  readonly name: string;
  /** Its shape. */
  readonly shape: readonly number[];
  /** Row-major values; length equals the product of `shape`. */
  readonly data: Float32Array;
}

/** A model's weights: an ordered list of named tensors. */
export type Weights = readonly NamedTensor[];

/** Name and shape of one tensor, without its values. */
export interface TensorSpec {
  /** The tensor's name. */
  readonly name: string;
  /** Its shape. */
  readonly shape: readonly number[];
}

export function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The names and shapes of `weights`, without their values. */
export function specOf(weights: Weights): TensorSpec[] {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape] }));
}

/** The number of values in all the spec's tensors. */
export function totalParameters(spec: readonly TensorSpec[]): number {
  let n = 0;
  for (const t of spec) n += sizeOfShape(t.shape);
  return n;
}

/** Describes the first difference between two specs, or returns undefined when they match. */
export function specMismatch(expected: readonly TensorSpec[], actual: readonly TensorSpec[]): string | undefined {
  if (expected.length !== actual.length) {
    return `expected ${expected.length} tensors, got ${actual.length}`;
  }
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (e.name !== a.name) return `tensor ${i}: expected name "${e.name}", got "${a.name}"`;
    if (e.shape.length !== a.shape.length || e.shape.some((d, j) => d !== a.shape[j])) {
      return `tensor "${e.name}": expected shape [${e.shape.join(', ')}], got [${a.shape.join(', ')}]`;
    }
  }
  return undefined;
}

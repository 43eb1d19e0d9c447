/** Any failure of the CKKS layer: bad parameters, a key or ciphertext that does not fit, a misused object. */
export class CkksError extends Error {
  override readonly name = 'CkksError';
}

/**
 * The text of an error thrown inside node-seal. SEAL's C++ exceptions reach JavaScript as a
 * `WebAssembly.Exception` whose `message` is `[type, what]` (e.g. `['std::invalid_argument', 'bit_sizes is
 * invalid']`); embind's own checks throw ordinary Errors.
 */
export function sealErrorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && 'message' in e) {
    const m: unknown = e.message;
    if (Array.isArray(m)) return m.map(String).join(': ');
    return String(m);
  }
  return String(e);
}

/** Runs a node-seal call and rethrows its failure as a CkksError that says what was being done. */
export function sealCall<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CkksError) throw e;
    throw new CkksError(`${what}: ${sealErrorText(e)}`, { cause: e });
  }
}

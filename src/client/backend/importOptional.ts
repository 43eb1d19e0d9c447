/** Thrown when an optional package is not installed, so the selection log can say just that. */
export class ModuleNotInstalledError extends Error {
  constructor(readonly specifier: string, options?: ErrorOptions) {
    super(`module not installed: ${specifier}`, options);
    this.name = 'ModuleNotInstalledError';
  }
}

/**
 * Imports a package that may be absent (an optional dependency). The specifier is a variable so that
 * TypeScript does not require the package at compile time; callers narrow the result themselves.
 * A missing package becomes ModuleNotInstalledError; a package that is present but fails to load
 * (a native addon without its shared library, say) keeps its own error.
 */
export async function importOptional(specifier: string): Promise<unknown> {
  try {
    return (await import(specifier)) as unknown;
  } catch (error) {
    if (isMissing(error, specifier)) throw new ModuleNotInstalledError(specifier, { cause: error });
    throw error;
  }
}

function isMissing(error: unknown, specifier: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  // Only the package itself being absent counts: a missing transitive dependency is a broken install.
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    error.message.includes(`'${specifier}'`)
  );
}

// No imports, and syntax any Node runs: main.ts uses this before it has checked the Node version.

/** Resolves once everything written to `stream` so far has been handed to the operating system. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    // Writes complete in order: this empty one's callback runs after every earlier write is out (or failed,
    // e.g. EPIPE when the reader left).
    stream.write('', () => resolve());
  });
}

/**
 * Exits with `code` once stdout and stderr are drained. `process.exit` alone drops what a pipe has not taken
 * yet: `cohort show <run> --json | wc -c` printed exactly 65,536 bytes, a pipe buffer's worth.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

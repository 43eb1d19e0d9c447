import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
const cli = [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts')];

export interface CliRun {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves when stdout matches `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
}

/** Runs the real `cohort` command (TypeScript through tsx) as a child process. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(cli[0]!, [...cli.slice(1), ...args], { cwd: repoRoot, env: { ...process.env, COHORT_BACKEND: 'cpu', ...env } });
  const output = { stdout: '', stderr: '' };
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    output.stdout += d.toString();
    for (const w of [...watchers]) if (w.pattern.test(output.stdout)) {
      watchers.splice(watchers.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr!.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) =>
    child.on('close', (code, signal) => done({ code, signal, ...output })),
  );
  return {
    child,
    output,
    exited,
    waitFor: (pattern) => (pattern.test(output.stdout) ? Promise.resolve() : new Promise((r) => watchers.push({ pattern, resolve: r }))),
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return startCli(args, env).exited;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

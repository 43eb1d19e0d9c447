import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, createReadStream, createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { repoRoot } from './cli.js';

/** Flags for a headless Chromium run as root on a machine whose network is closed (no background fetches). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumBinary {
  readonly executablePath: string;
  /** Where it came from, for the test log. */
  readonly source: string;
}

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * The Chromium the browser tests drive: CHROMIUM_PATH when set, Debian's `chromium` when installed, otherwise the
 * build that ships inside the `@sparticuz/chromium` npm tarball (a devDependency), so that `npm install && npm test`
 * needs no system browser and no download: nothing outside the npm registry can be fetched on these machines.
 */
export async function findChromium(): Promise<ChromiumBinary> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH is ${fromEnv}, which does not exist: unset it to use Debian's chromium or the bundled one`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH' };
  }
  if (existsSync(DEBIAN_CHROMIUM)) return { executablePath: DEBIAN_CHROMIUM, source: "Debian's chromium" };
  return bundledChromium();
}

/**
 * Unpacks @sparticuz/chromium's brotli-compressed binary once per package version under node_modules/.cache. The
 * package's own executablePath() unpacks into a shared /tmp/chromium that it trusts whatever version (or half-written
 * file) is there; here the file appears under its final name only once complete (rename is atomic).
 */
async function bundledChromium(): Promise<ChromiumBinary> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`no Chromium for ${process.platform}-${process.arch}: @sparticuz/chromium ships linux-x64 only; install Chromium and set CHROMIUM_PATH`);
  }
  const packageDir = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const dir = join(repoRoot, 'node_modules', '.cache', 'cohort-fl', `sparticuz-chromium-${version}`);
  const executablePath = join(dir, 'chromium');
  const source = `@sparticuz/chromium ${version}`;
  if (existsSync(executablePath)) return { executablePath, source };
  mkdirSync(dir, { recursive: true });
  const partial = `${executablePath}.${process.pid}.partial`;
  try {
    await pipeline(createReadStream(join(packageDir, 'bin', 'chromium.br')), createBrotliDecompress(), createWriteStream(partial, { mode: 0o755 }));
    renameSync(partial, executablePath);
  } finally {
    rmSync(partial, { force: true });
  }
  return { executablePath, source };
}

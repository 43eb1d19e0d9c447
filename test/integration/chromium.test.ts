import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { findChromium } from '../helpers/chromium.js';

const saved = process.env.CHROMIUM_PATH;
afterEach(() => {
  if (saved === undefined) delete process.env.CHROMIUM_PATH;
  else process.env.CHROMIUM_PATH = saved;
});

describe('the Chromium that browser tests drive', () => {
  it('is the one CHROMIUM_PATH names, and a wrong CHROMIUM_PATH is an error, not a silent fallback', async () => {
    process.env.CHROMIUM_PATH = process.execPath; // any existing file: the lookup does not second-guess it
    expect(await findChromium()).toEqual({ executablePath: process.execPath, source: 'CHROMIUM_PATH' });
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    await expect(findChromium()).rejects.toThrow(/CHROMIUM_PATH is \/nonexistent\/chromium, which does not exist/);
  });

  it("is Debian's where installed, else the build inside the @sparticuz/chromium tarball, and it runs here", async () => {
    delete process.env.CHROMIUM_PATH;
    const found = await findChromium();
    if (existsSync('/usr/bin/chromium')) expect(found.source).toBe("Debian's chromium");
    else expect(found.source).toMatch(/^@sparticuz\/chromium \d+\./);
    const version = spawnSync(found.executablePath, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    expect(version.status).toBe(0);
    // @sparticuz/chromium's major version is the Chromium major it ships.
    const major = /^@sparticuz\/chromium (\d+)\./.exec(found.source)?.[1];
    expect(version.stdout).toMatch(major ? new RegExp(`^Chromium ${major}\\.`) : /^Chromium \d+\./);
  });
});

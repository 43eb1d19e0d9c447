import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clientConfigSchema } from '../../src/cli/config/clientConfig.js';
import { loadConfig } from '../../src/cli/config/loadConfig.js';
import { repoRoot } from '../helpers/cli.js';

const dir = join(repoRoot, 'deploy/client');
const read = (file: string) => readFileSync(join(dir, file), 'utf8');
const systemdAnalyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;

describe("the hospital's client deployment (deploy/client)", () => {
  it('ships a client config that `cohort client` accepts, pointing at the paths the container mounts', () => {
    const config = loadConfig(join(dir, 'hospital.yaml'), clientConfigSchema);
    const compose = parse(read('compose.yaml')) as { services: { 'cohort-client': { volumes: string[]; secrets: { target: string }[]; read_only: boolean; user: string; ports?: unknown } } };
    const service = compose.services['cohort-client'];
    expect(config.identity?.key).toBe(service.secrets[0]!.target);
    // The data folder and the config are mounted read-only, and the node's data path lies in that folder.
    expect(service.volumes).toContain('/srv/cohort/data:/data:ro');
    expect(service.volumes).toContain('./hospital.yaml:/etc/cohort/hospital.yaml:ro');
    expect('path' in config.data && config.data.path.startsWith('/data/')).toBe(true);
    expect(config.tls?.ca?.startsWith('/etc/cohort/tls/')).toBe(true);
    expect(service.volumes).toContain('/srv/cohort/tls:/etc/cohort/tls:ro');
    // What it writes (audit log, final model) goes to the one writable volume; the root filesystem is read-only.
    expect(config.audit?.log?.startsWith('/var/lib/cohort/')).toBe(true);
    expect(config.finalModel?.out.startsWith('/var/lib/cohort/')).toBe(true);
    expect(service.read_only).toBe(true);
    expect(service.ports).toBeUndefined();
  });

  it('builds an image that runs as a non-root user with no port exposed', () => {
    const dockerfile = read('Dockerfile');
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users).toEqual(['cohort']);
    expect(dockerfile).toMatch(/useradd --system --uid 10001/);
    expect(dockerfile).not.toMatch(/^EXPOSE/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/opt\/cohort\/dist\/cli\/main\.js", "client"\]$/m);
    expect((parse(read('compose.yaml')) as { services: { 'cohort-client': { user: string } } }).services['cohort-client'].user).toBe('10001:10001');
  });

  it.skipIf(!systemdAnalyze)('has a systemd unit that systemd-analyze verify accepts (skipped where systemd-analyze is missing)', () => {
    const verify = spawnSync('systemd-analyze', ['verify', join(dir, 'cohort-client.service')], { encoding: 'utf8' });
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    const unit = read('cohort-client.service');
    expect(unit).toMatch(/^LoadCredential=identity\.key:/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^Restart=on-abnormal$/m);
  });
});

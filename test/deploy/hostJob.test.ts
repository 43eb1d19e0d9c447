import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { loadConfig } from '../../src/cli/config/loadConfig.js';
import { parseHostPart } from '../../src/cli/host/hostPart.js';
import { buildProgram } from '../../src/cli/program.js';
import { repoRoot } from '../helpers/cli.js';

const dir = join(repoRoot, 'deploy/host');
const manifest = parse(readFileSync(join(dir, 'job.yaml'), 'utf8')) as ConstructorParameters<typeof Job>[0] & Record<string, never>;
const job = new Job(manifest);
const pod = job.spec!.template.spec!;
const host = pod.containers[0]!;

/** The host container's command line as its shell expands it in the pod with completion index `index`. */
function argvAt(index: number): string[] {
  const env: Record<string, string> = { JOB_COMPLETION_INDEX: String(index), COORDINATOR_URL: 'http://coordinator:8080', COORDINATOR_KEY: 'k'.repeat(43) + '=' };
  for (const e of host.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  // The same shell line, printing its arguments instead of exec'ing node.
  const line = host.args![0]!.replace(/^exec node \S+/, 'printf "%s\\n"');
  return execFileSync('sh', ['-c', line], { env, encoding: 'utf8' }).trimEnd().split('\n');
}

describe('the Kubernetes Indexed Job that launches cohort host processes (deploy/host)', () => {
  it('is a valid batch/v1 Job by the Kubernetes OpenAPI schema (kubernetes-models)', () => {
    expect(() => job.validate()).not.toThrow();
    // The check has teeth: the same manifest with a misspelt field is refused.
    const broken = new Job({ ...manifest, spec: { ...manifest.spec, completionMode: 'Indexd' } } as unknown as ConstructorParameters<typeof Job>[0]);
    expect(() => broken.validate()).toThrow(/completionMode/);
  });

  it('gives pod i part i+1 of N, N being the completions, through the real `cohort host` options', () => {
    expect(job.spec!.completionMode).toBe('Indexed');
    const completions = job.spec!.completions!;
    expect(host.env?.find((e) => e.name === 'HOSTS')?.value).toBe(String(completions));
    expect(job.spec!.parallelism).toBe(completions);
    const parts = Array.from({ length: completions }, (_, i) => argvAt(i)).map((argv) => argv[argv.indexOf('--part') + 1]!);
    expect(parts).toEqual(['1/4', '2/4', '3/4', '4/4']);
    expect(parseHostPart(parts[3]!)).toEqual({ number: 4, count: 4 });
    // An index past the completions (a manifest edited in one place only) is refused by the host, naming the range.
    const [, past] = argvAt(4).join(' ').match(/--part (\S+)/)!;
    expect(() => parseHostPart(past!)).toThrow(/out of range: parts count from 1 to 4/);
    // Every option the line passes is one `cohort host` takes.
    const command = buildProgram().commands.find((c) => c.name() === 'host')!;
    const known = new Set(command.options.map((o) => o.long));
    const given = argvAt(0).filter((a) => a.startsWith('--'));
    expect(given.filter((o) => !known.has(o))).toEqual([]);
    expect(argvAt(0).slice(0, 1)).toEqual(['host']);
  });

  it("runs the hospital node's image as its non-root user, the key copied to mode 0400 for that user, read-only everywhere", () => {
    const compose = parse(readFileSync(join(repoRoot, 'deploy/client/compose.yaml'), 'utf8')) as { services: { 'cohort-client': { image: string; user: string } } };
    const image = compose.services['cohort-client'].image;
    expect(host.image).toBe(image);
    expect(pod.initContainers![0]!.image).toBe(image);
    expect(`${pod.securityContext!.runAsUser}:${pod.securityContext!.runAsGroup}`).toBe(compose.services['cohort-client'].user);
    expect(pod.initContainers![0]!.command).toEqual(['install', '-o', '10001', '-g', '10001', '-m', '0400', '/run/secrets/cohort/hosts.key', '/run/cohort/hosts.key']);
    expect(argvAt(0)).toContain('/run/cohort/hosts.key');
    expect(host.securityContext!.readOnlyRootFilesystem).toBe(true);
    expect(host.volumeMounts!.filter((m) => m.name !== 'tmp').every((m) => m.readOnly)).toBe(true);
  });

  it('ships an experiment that `cohort coordinator` and `cohort host` accept, its data under the mount', () => {
    const config = loadConfig(join(dir, 'experiment.yaml'), experimentConfigSchema);
    expect(config.access).toEqual({ mode: 'virtual-clients', key: 'hosts.key' });
    expect(config.partition).toMatchObject({ type: 'iid', clients: 10_000 });
    expect(String(config.dataDefaults.path).startsWith('/data/')).toBe(true);
    expect(config.strategy.minAvailableClients).toBe(10_000);
  });
});

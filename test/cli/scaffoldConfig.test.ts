import { describe, expect, it } from 'vitest';
import { experimentConfigSchema } from '../../src/cli/config/experimentConfig.js';
import { ConfigError } from '../../src/cli/config/loadConfig.js';
import { createStrategy } from '../../src/cli/createStrategy.js';
import { Scaffold } from '../../src/coordinator/strategies/scaffold.js';

const parse = (extra: Record<string, unknown>, strategy: Record<string, unknown> = {}) =>
  experimentConfigSchema.parse({ rounds: 1, model: { type: 'mlp' }, training: { optimizer: 'sgd' }, strategy: { name: 'scaffold', minFitClients: 2, ...strategy }, ...extra });
/** The config's issues as `path: message` lines ('' when it is valid). */
function issues(extra: Record<string, unknown>, strategy: Record<string, unknown> = {}): string {
  const result = experimentConfigSchema.safeParse({ rounds: 1, model: { type: 'mlp' }, training: { optimizer: 'sgd' }, strategy: { name: 'scaffold', minFitClients: 2, ...strategy }, ...extra });
  return result.success ? '' : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}
const clients = (n: number) => ({ clients: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, data: {} })) });

describe('scaffold in experiment configs', () => {
  it('builds SCAFFOLD with N = the configured clients, the partition, the allowlist, or totalClients', () => {
    const built = createStrategy(parse(clients(3)));
    expect(built).toBeInstanceOf(Scaffold);
    expect((built as Scaffold).totalClients).toBe(3);
    expect((createStrategy(parse({ partition: { type: 'iid', clients: 4 } })) as Scaffold).totalClients).toBe(4);
    const peer = (name: string, role = 'client') => ({ name, publicKey: Buffer.alloc(32, name.length).toString('base64'), role });
    const access = { access: { peers: [peer('a'), peer('bb'), peer('ccc', 'observer')] } };
    expect((createStrategy(parse(access)) as Scaffold).totalClients).toBe(2);
    expect((createStrategy(parse(clients(3), { totalClients: 10 })) as Scaffold).totalClients).toBe(10);
  });

  it('needs N when the config does not say how many clients there are', () => {
    expect(() => createStrategy(parse({}))).toThrow(ConfigError);
    expect(() => createStrategy(parse({}))).toThrow(/strategy\.totalClients \(N, the number of clients in the federation\) is required for scaffold/);
    expect((createStrategy(parse({}, { totalClients: 2 })) as Scaffold).totalClients).toBe(2);
  });

  it('refuses, when the config is read, what SCAFFOLD cannot combine with', () => {
    const refuse = (extra: Record<string, unknown>, message: RegExp, strategy: Record<string, unknown> = {}) => expect(issues({ ...clients(2), ...extra }, strategy)).toMatch(message);
    refuse({ training: { optimizer: 'adam' } }, /training\.optimizer: scaffold needs optimizer: sgd \(its control update assumes plain SGD steps\), got adam/);
    refuse({ privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 } }, /privacy: scaffold cannot run with client-level DP/);
    refuse({ dpSgd: { clipNorm: 1, delta: 1e-5, noiseMultiplier: 1 } }, /dpSgd: scaffold's gradient correction is not combined with DP-SGD/);
    refuse({ secureAggregation: 'ckks' }, /scaffold cannot run with secureAggregation: ckks/);
    refuse({}, /strategy\.totalClients: must be at least the number of clients \(2\)/, { totalClients: 1, minFitClients: 1 });
    expect(issues({}, { name: 'fedavg', totalClients: 3 })).toBe('strategy.totalClients: only scaffold uses totalClients');
    expect(issues(clients(2))).toBe('');
  });
});

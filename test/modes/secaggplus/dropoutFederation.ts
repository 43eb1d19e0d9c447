import { dropoutSchedule } from '../../../src/client/dropouts/dropoutSchedule.js';
import type { ClientSecurityPolicy } from '../../../src/client/security/securityPolicy.js';
import type { Coordinator } from '../../../src/coordinator/coordinator.js';
import { FedAvg } from '../../../src/coordinator/strategies/fedAvg.js';
import { generateIdentity } from '../../../src/crypto/identity.js';
import type { SecAggPlusOptions } from '../../../src/modes/secaggplus/settings.js';
import type { Weights } from '../../../src/protocol/tensors.js';
import { ConstantShiftTrainer } from '../../helpers/constantShiftTrainer.js';
import { TestFederation } from '../../helpers/federation.js';
import { silent } from '../../helpers/silentLogger.js';

// Must-show 1 at CI size: 20 clients, 120k parameters, each round 10% leave after the key exchange and before
// uploading and 30% just after their upload was accepted (real disconnects over loopback sockets).
export const SIZE = 120_000;
export const CLIENTS = 20;
export const names = Array.from({ length: CLIENTS }, (_, i) => `site-${String(i).padStart(2, '0')}`);
export const initial = (): Weights => [{ name: 'w', shape: [SIZE], data: Float32Array.from({ length: SIZE }, (_, i) => (i % 512) / 256) }];
/** Each site shifts every parameter by its own amount (not on the quantization grid), so the mean says who was summed. */
export const shiftOf = (name: string) => 0.013 * (names.indexOf(name) + 1) - 0.1;
export const examplesOf = (name: string) => 10 + names.indexOf(name);

export interface Unmasked {
  readonly round: number;
  readonly survivors: readonly string[];
  readonly revealers: number;
  readonly droppedMaskKeys: number;
  readonly bits: number;
  readonly sumSha256: string;
}

export interface DropoutRun {
  readonly coordinator: Coordinator;
  readonly run: ReturnType<Coordinator['run']>;
  readonly schedule: ReturnType<typeof dropoutSchedule>;
  readonly unmasked: Unmasked[];
  /** What each site encoded (quantized, before masking), by round: what the unmasked sum must add up to. */
  readonly encoded: Map<number, Map<string, Uint32Array>>;
  readonly left: { name: string; round: number; step: string }[];
}

/** A federation of CLIENTS sites on loopback under SecAgg+, 10% leaving before upload and 30% after, every round. */
export async function runWithDropouts(fed: TestFederation, secaggplus: SecAggPlusOptions, rounds: number, security: Partial<ClientSecurityPolicy> = {}): Promise<DropoutRun> {
  const schedule = dropoutSchedule(names, { beforeUpload: 0.1, afterUpload: 0.3, seed: 7 });
  const unmasked: Unmasked[] = [];
  const coordinator = await fed.coordinator({
    strategy: new FedAvg({ fractionFit: 1, minFitClients: 12, minAvailableClients: CLIENTS, fractionEvaluate: 0, fit: { epochs: 1, batchSize: 1, learningRate: 1 } }),
    initialWeights: initial(),
    rounds,
    maxRoundRetries: 0,
    roundTimeoutMs: 120_000,
    secureAggregation: 'secaggplus',
    secaggplus,
    logger: silent,
    audit: { append: (type, data) => void (type === 'secaggplus-unmasked' && unmasked.push(data as unknown as Unmasked)) },
  });
  const encoded = new Map<number, Map<string, Uint32Array>>();
  const left: { name: string; round: number; step: string }[] = [];
  const identities = new Map(names.map((n) => [n, generateIdentity()]));
  const roster = names.map((name) => ({ name, identityKey: identities.get(name)!.publicKey }));
  for (const name of names) {
    fed.client(coordinator.url, name, new ConstantShiftTrainer(initial(), shiftOf(name), examplesOf(name)), {
      logger: silent,
      identity: identities.get(name)!,
      security: { mode: 'secaggplus', roster, ...security },
      onEvent: (e) => void (e.type === 'left' && left.push({ name, round: e.round, step: e.step })),
      simulation: {
        leaveAt: schedule.leaveAt(name),
        onSecAggEncoded: (round, values) => {
          if (!encoded.has(round)) encoded.set(round, new Map());
          encoded.get(round)!.set(name, values);
        },
      },
    });
  }
  return { coordinator, run: coordinator.run(), schedule, unmasked, encoded, left };
}

/** The survivors' encodings summed in Z_(2^bits), computed here from what each encoded. */
export function survivorsSum(run: DropoutRun, u: Unmasked, bits: number): Uint32Array {
  const sum = new Uint32Array(SIZE);
  const modulus = 2 ** bits;
  for (const name of u.survivors) {
    const values = run.encoded.get(u.round)!.get(name)!;
    for (let i = 0; i < SIZE; i++) sum[i] = (sum[i]! + values[i]!) % modulus;
  }
  return sum;
}

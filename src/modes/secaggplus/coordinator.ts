import { createHash } from 'node:crypto';
import type { ClientRegistry } from '../../coordinator/clientRegistry.js';
import { collectTasks } from '../../coordinator/collectTasks.js';
import { RunError } from '../../coordinator/coordinatorOptions.js';
import type { FitReport, FitTask, StrategyCapabilities, TaskFailure } from '../../coordinator/strategy.js';
import { packedLength } from '../../crypto/secagg/bitPacking.js';
import { dpCohortRefusal, dpEncoding, signedSum } from '../../crypto/secagg/dpEncoding.js';
import { dequantizeSum } from '../../crypto/secagg/quantize.js';
import { TASK_EXTRAS } from '../../protocol/taskExtras.js';
import { specOf, totalParameters } from '../../protocol/tensors.js';
import { ClearGlobalCoordinator } from '../clearGlobalCoordinator.js';
import type { CoordinatorMode, FitPhase, ModeContext, ModeDefinition } from '../mode.js';
import { exchangeKeys, failureOf, stage } from './keyExchange.js';
import { MaskedSum } from './maskedSum.js';
import { checkSecAggPlusOptions, type SecAggPlusOptions } from './settings.js';
import { dropoutAdvice, unmaskSum } from './unmasking.js';
import { canonicalSet } from './wire.js';

/** Every task of a round that could not run under SecAgg+ (too few clients to protect anyone, say). */
function failedPhase(tasks: readonly FitTask[], failures: TaskFailure[], reason: string): FitPhase {
  const named = new Set(failures.map((f) => f.client.id));
  const all = [...failures, ...tasks.filter((t) => !named.has(t.client.id)).map((t) => ({ client: t.client, reason: 'refused' as const, detail: reason }))];
  return { reports: [], failures: all, commit: () => { throw new RunError(`SecAgg+ round failed: ${reason}`); } };
}

/**
 * SecAgg+ mode's coordinator half (Bonawitz et al. 2017 with Bell et al. 2020's neighbour graph). The global
 * model is public to the coordinator, as in plain mode; each fit round runs the key exchange, collects masked
 * updates (packed at b bits a value) into a sum in Z_(2^b), runs the consistency round, and strips the masks
 * with the shares the survivors reveal. The coordinator learns the weighted mean of the survivors' updates, never an individual one, and
 * hands it to the strategy exactly as plain mode hands its mean.
 */
class SecAggPlusCoordinator extends ClearGlobalCoordinator implements CoordinatorMode {
  readonly name = 'secaggplus' as const;
  readonly maxUploadBytes: number;
  private readonly parameters: number;
  private readonly options: SecAggPlusOptions;
  /** Distributed DP: the clip norm every client clips to and the noise multiplier their shares add up to. */
  private readonly dp: { readonly clipNorm: number; readonly noiseMultiplier: number } | undefined;

  constructor(context: ModeContext) {
    super(context);
    const { privacy } = context;
    if (privacy && typeof privacy.clipNorm !== 'number') {
      throw new RunError('differential privacy with secureAggregation: secaggplus needs a fixed privacy.clipNorm (clients clip to it and add their noise share; adaptive clipping is not implemented in this mode)');
    }
    this.dp = privacy ? { clipNorm: privacy.clipNorm as number, noiseMultiplier: privacy.noiseMultiplier } : undefined;
    this.options = context.secaggplus ?? {};
    try {
      // Under an allowlist no round has more members than its clients: t is checked against that graph's degree.
      const allowed = context.access.mode === 'allowlist' ? context.access.peers.filter((p) => p.role === 'client').length : undefined;
      checkSecAggPlusOptions(this.options, allowed);
    } catch (e) {
      throw new RunError((e as Error).message);
    }
    if (this.dp && (this.options.bits ?? 32) !== 32) {
      throw new RunError(`differential privacy with secureAggregation: secaggplus needs secaggplus.bits 32 (got ${this.options.bits}): the distributed DP's integer grid and its accounting are sized for a 32-bit ring that never wraps`);
    }
    this.parameters = totalParameters(specOf(context.initialWeights));
    this.maxUploadBytes = packedLength(this.parameters, this.options.bits ?? 32);
  }

  async fit(round: number, tasks: readonly FitTask[], registry: ClientRegistry, deadlineMs: number): Promise<FitPhase> {
    const { runId, log, audit } = this.context;
    const tooMany = this.dp ? dpCohortRefusal(tasks.length) : undefined;
    if (tooMany) {
      log.warn({ round, error: tooMany }, 'SecAgg+ round refused');
      return failedPhase(tasks, [], tooMany);
    }
    let keys;
    try {
      keys = await exchangeKeys(runId, round, this.options, tasks, registry, deadlineMs);
    } catch (e) {
      log.warn({ round, error: (e as Error).message }, 'SecAgg+ key exchange failed');
      return failedPhase(tasks, [], (e as Error).message);
    }
    const { settings, failures } = keys;
    const exampleOf = new Map(tasks.map((t) => [t.client.name, t.client.numTrainExamples || 1]));
    const cohortExamples = [...keys.members.keys()].reduce((s, n) => s + exampleOf.get(n)!, 0);
    const sum = new MaskedSum(this.parameters, settings.bits);
    const target = sum.target(new Set(keys.ready.map((p) => p.task.client.name)));
    const download = this.evaluationPayload();
    const fitted = await collectTasks(
      keys.ready.map((p) => p.task),
      registry,
      (session, task, taskId) => {
        const extra = {
          ...task.instructions.extra,
          // Under DP every client weighs 1/m (example counts would scale the sensitivity) and adds a noise share.
          [TASK_EXTRAS.secaggWeight]: this.dp ? 1 / keys.members.size : exampleOf.get(task.client.name)! / cohortExamples,
          ...(this.dp ? { [TASK_EXTRAS.clipNorm]: this.dp.clipNorm, [TASK_EXTRAS.dpNoiseShare]: this.dp.noiseMultiplier / Math.sqrt(keys.members.size) } : {}),
          [TASK_EXTRAS.secaggCohortSize]: keys.members.size,
          [TASK_EXTRAS.secaggClippingRange]: settings.clippingRange,
          [TASK_EXTRAS.secaggBits]: settings.bits,
        };
        return session.fit(round, taskId, { ...task.instructions, extra }, download, target);
      },
      deadlineMs,
      'fit',
    );
    failures.push(...fitted.failures);
    const survivors = canonicalSet(sum.contributors);
    const reports = fitted.reports.filter((r) => survivors.includes(r.client.name));
    const surviving = keys.ready.filter((p) => survivors.includes(p.task.client.name));
    // The consistency round: every survivor signs the set it is told; the signatures go to every survivor.
    const signed = await stage(surviving, [], 'SecAgg+ consistency', async (p) => (await p.session.request({ type: 'secagg-consistency', round, survivors }, 'secagg-survivors-signed', deadlineMs)).signature);
    const signatures = signed.map(({ p, reply }) => ({ name: p.task.client.name, signature: reply }));
    if (signed.length < settings.threshold) {
      // Every client would refuse to reveal (fewer than t signatures): say what would have let the round finish.
      const reason = `cannot unmask round ${round}: only ${signed.length} survivors signed the survivor set, fewer than the threshold ${settings.threshold}. ${dropoutAdvice(keys.members.size, signed.length, settings.degree, settings.threshold)}`;
      log.warn({ round, error: reason }, 'SecAgg+ unmasking failed');
      return failedPhase(tasks, failures, reason);
    }
    const revealed = await stage(signed.map((s) => s.p), [], 'SecAgg+ unmask', async (p) => (await p.session.request({ type: 'secagg-unmask', round, survivors, signatures }, 'secagg-reveal', deadlineMs)).shares);
    try {
      const reveals = new Map(revealed.map(({ p, reply }) => [p.task.client.name, reply]));
      const outcome = await unmaskSum(sum.sum, { runId, round, threshold: settings.threshold, members: keys.members, graph: keys.graph, shared: keys.shared, survivors, reveals });
      sum.reduce();
      // A neighbour that revealed a false share is named; the round still unmasks from the true ones.
      for (const f of outcome.falseShares) {
        log.warn({ round, revealer: f.revealer, owner: f.owner, kind: f.kind }, 'a SecAgg+ share was false');
        audit.append('secaggplus-false-share', { round, revealer: f.revealer, owner: f.owner, kind: f.kind });
      }
      audit.append('secaggplus-unmasked', {
        round,
        members: keys.members.size,
        shared: keys.shared.size,
        bits: settings.bits,
        survivors,
        revealers: revealed.length,
        droppedMaskKeys: outcome.droppedMaskKeys,
        falseShares: outcome.falseShares.map((f) => f.revealer),
        sumSha256: createHash('sha256').update(sum.sum).digest('hex'),
      });
    } catch (e) {
      log.warn({ round, error: (e as Error).message }, 'SecAgg+ unmasking failed');
      return failedPhase(tasks, [...failures, ...reports.map((r) => failureOf(keys.ready.find((p) => p.task.client.name === r.client.name)!, 'SecAgg+ unmask', e))], (e as Error).message);
    }
    const mean = this.dp ? this.noisedMean(sum.sum, survivors.length) : this.weightedMean(sum.sum, survivors, keys.members.size, settings, (n) => exampleOf.get(n)! / cohortExamples);
    // Distributed noise: only the survivors' shares are in the sum (the ledger charges z sqrt((m' - c) / m)).
    const noiseShares = this.dp ? { present: survivors.length, selected: tasks.length } : undefined;
    return { reports, failures, commit: () => this.commit(round, mean, survivors, reports, failures, noiseShares) };
  }

  /** The survivors' example-weighted mean: their dequantized weighted sum over their weights. */
  private weightedMean(sum: Uint32Array, survivors: readonly string[], cohort: number, settings: { bits: number; clippingRange: number }, weightOf: (name: string) => number): Float32Array {
    const weighted = dequantizeSum(sum, survivors.length, { bits: settings.bits, range: settings.clippingRange, cohort });
    const survivorWeight = survivors.reduce((s, n) => s + weightOf(n), 0);
    const mean = new Float32Array(weighted.length);
    for (let i = 0; i < mean.length; i++) mean[i] = weighted[i]! / survivorWeight;
    return mean;
  }

  /** Under DP: the noised integer sum, signed, off the grid, over the contributors (as CKKS divides by its weights' total). */
  private noisedMean(sum: Uint32Array, contributors: number): Float32Array {
    const { scale } = dpEncoding(this.dp!.clipNorm, this.parameters);
    const signed = signedSum(sum);
    const mean = new Float32Array(signed.length);
    for (let i = 0; i < mean.length; i++) mean[i] = signed[i]! / scale / contributors;
    return mean;
  }

  private commit(round: number, mean: Float32Array, survivors: readonly string[], reports: readonly FitReport[], failures: readonly TaskFailure[], noiseShares: { present: number; selected: number } | undefined) {
    const totalWeight = reports.reduce((s, r) => s + r.numExamples, 0);
    const metrics = this.nextGlobal((global, into) => this.context.strategy.aggregateFit(round, global, { mean, totalWeight, contributors: survivors }, reports, failures, into));
    return { metrics, ...(noiseShares ? { noiseShares } : {}), measurements: this.dp ? { clipNorm: this.dp.clipNorm } : {} };
  }
}

/** SecAgg+ sums: it runs a strategy that consumes the mean and whose fit tasks carry the model alone. */
function refusal(capabilities: StrategyCapabilities): string | undefined {
  if (capabilities.needs !== 'mean') return 'it needs every individual update, which SecAgg+ hides';
  if (capabilities.payload) return 'its fit tasks carry more than the model, which the SecAgg+ rounds do not pack yet';
  return undefined;
}

export const secaggPlusMode: ModeDefinition = {
  name: 'secaggplus',
  protectsUpdates: true,
  compressionRefusal:
    'SecAgg+ already quantizes every value itself, into the ring Z_(2^bits) with a step set by secaggplus.bits (8 to 32, packed at that many bits a value on the wire) and secaggplus.clippingRange, and its pairwise masks fill every value, so a top-k upload would not stay sparse; remove compression and set the quantization with those two settings',
  refusal,
  createCoordinator: (context) => new SecAggPlusCoordinator(context),
};

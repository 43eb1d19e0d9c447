import { TASK_EXTRAS } from '../protocol/taskExtras.js';
import { SCAFFOLD_EXTRA_KEY, scaffoldSpec, splitScaffold } from '../protocol/scaffoldWire.js';
import { specMismatch, specOf, type TensorSpec, type Weights } from '../protocol/tensors.js';
import { scaffoldClientUpdate, scaffoldGradientCorrection, zeroControl } from './scaffoldClient.js';
import type { CorrectedFitOutcome, FitConfig, Trainer } from './trainer.js';

/** Whether a fit task is a SCAFFOLD one: it then downloads [x; c] and uploads [delta_y; delta_c]. */
export function isScaffoldTask(config: Pick<FitConfig, 'extra'>): boolean {
  return config.extra?.[SCAFFOLD_EXTRA_KEY] === true;
}

/** What a fit task's download must look like: the model, or [x; c] for a SCAFFOLD task. */
export function fitDownloadSpec(config: Pick<FitConfig, 'extra'>, model: readonly TensorSpec[] | undefined): TensorSpec[] | undefined {
  if (!model) return undefined;
  return isScaffoldTask(config) ? scaffoldSpec(model) : [...model];
}

/** The global model inside a fit task's download (x of [x; c] for a SCAFFOLD task). */
export function fitDownloadModel(config: Pick<FitConfig, 'extra'>, download: Weights): Weights {
  return isScaffoldTask(config) ? splitScaffold(download).first : download;
}

/**
 * A client's side of SCAFFOLD (Karimireddy et al. 2020, Algorithm 1, option II). It holds c_i between the rounds
 * of one run (zeros before its first round there) and hands out one ScaffoldRound per fit task.
 */
export class ScaffoldMember {
  private held: { readonly runId: string; readonly control: Weights } | undefined;

  /**
   * Splits a downloaded [x; c]. Privatized rounds are refused: delta_c = -c - delta_y / (K eta_l) gives delta_y
   * back exactly, so clipping or noising the model half alone would protect nothing.
   */
  begin(download: Weights, config: FitConfig, context: { readonly runId: string; readonly localPrivacy: boolean }): ScaffoldRound {
    if (config.extra?.[TASK_EXTRAS.clipNorm] !== undefined || context.localPrivacy) {
      throw new Error('SCAFFOLD cannot run with differential privacy (central clipping or local DP): its control update delta_c reveals the unclipped model update');
    }
    const { first: global, control: serverControl } = splitScaffold(download);
    const held = this.held?.runId === context.runId ? this.held.control : undefined;
    if (held && specMismatch(specOf(held), specOf(global))) throw new Error(`this client's SCAFFOLD control variate does not match the model: ${specMismatch(specOf(held), specOf(global))}`);
    return new ScaffoldRound(global, serverControl, held ?? zeroControl(global), (control) => (this.held = { runId: context.runId, control }));
  }
}

/** One SCAFFOLD fit task: fit (corrected), then upload, then commit once the upload was sent. */
export class ScaffoldRound {
  private trained: CorrectedFitOutcome | undefined;
  private next: Weights | undefined;

  constructor(
    /** x: the global model, which the trainer must hold before `fit`. */
    readonly global: Weights,
    private readonly serverControl: Weights,
    private readonly clientControl: Weights,
    private readonly adopt: (control: Weights) => void,
  ) {}

  /** K steps of y <- y - eta_l (g(y) + c - c_i) from x. */
  async fit(trainer: Trainer, config: FitConfig): Promise<CorrectedFitOutcome> {
    if (!trainer.fitWithCorrection) throw new Error("this client's trainer cannot take SCAFFOLD tasks: it does not implement fitWithCorrection");
    this.trained = await trainer.fitWithCorrection(config, scaffoldGradientCorrection(this.serverControl, this.clientControl));
    return this.trained;
  }

  /** [delta_y; delta_c] from the trained model y; c_i+ waits for `commit`. */
  upload(local: Weights): Weights {
    if (!this.trained) throw new Error('a SCAFFOLD round uploads only after it trained');
    const { upload, clientControl } = scaffoldClientUpdate({
      global: this.global,
      local,
      serverControl: this.serverControl,
      clientControl: this.clientControl,
      steps: this.trained.steps,
      learningRate: this.trained.learningRate,
    });
    this.next = clientControl;
    return upload;
  }

  /** The upload was sent: c_i <- c_i+ (a round that failed before this leaves c_i as it was). */
  commit(): void {
    if (!this.next) throw new Error('a SCAFFOLD round commits only after its upload');
    this.adopt(this.next);
  }
}

import type { CompressedUpdate } from '../../protocol/compressedFormat.js';
import type { TensorSpec, Weights } from '../../protocol/tensors.js';
import type { FitConfig, Trainer } from '../trainer.js';

/** A fit task as the chain sees it: the config, what was downloaded, and the trainer that holds the model. */
export interface FitTaskContext {
  readonly round: number;
  readonly config: FitConfig;
  /** The download, as the mode decoded it (the model, or a step's larger layout such as [x; c]). */
  readonly download: Weights;
  readonly trainer: Trainer;
}

/** What the chain hands the secure-aggregation mode: the update and what may be reported with it. */
export interface TrainedUpdate {
  /** The model the update starts from (x). */
  readonly global: Weights;
  /** What leaves this site before the mode protects it: delta = local - global, clipped or noised by the steps. */
  readonly delta: Weights;
  readonly numExamples: number;
  /** The compressed form of `delta` (which is then what the coordinator will decode), for plain mode to send. */
  readonly compressed?: CompressedUpdate;
  readonly metrics: Readonly<Record<string, number>>;
  /** Called once the upload is sent (a step that keeps state across rounds adopts it then). */
  readonly sent?: () => void;
}

/**
 * One step of a client's fit, Flower's client mods and socket.io's `use`: it may change the task, call the
 * rest of the chain, and change what comes back. `conflicts` names steps it cannot run with, checked once
 * when the chain is built.
 */
export interface FitStep {
  readonly name: string;
  readonly conflicts?: readonly string[];
  /** The download this step's tasks need, from the model's spec (default: the model). */
  downloadSpec?(model: readonly TensorSpec[]): TensorSpec[];
  /** The model inside such a download (default: the download itself). */
  modelOf?(download: Weights): Weights;
  run(task: FitTaskContext, next: (task: FitTaskContext) => Promise<TrainedUpdate>): Promise<TrainedUpdate>;
}

/** The steps composed around the innermost one (train and subtract); throws naming both steps of a conflict. */
export interface FitChain {
  readonly steps: readonly string[];
  downloadSpec(model: readonly TensorSpec[]): TensorSpec[];
  modelOf(download: Weights): Weights;
  run(task: FitTaskContext): Promise<TrainedUpdate>;
}

export function buildFitChain(steps: readonly FitStep[], innermost: (task: FitTaskContext) => Promise<TrainedUpdate>, extraNames: readonly string[] = []): FitChain {
  const names = [...steps.map((s) => s.name), ...extraNames];
  for (const step of steps) {
    const clash = step.conflicts?.find((c) => names.includes(c));
    if (clash) throw new Error(`${step.name} cannot run with ${clash} in the same fit`);
  }
  const shaping = steps.find((s) => s.downloadSpec);
  const run = steps.reduceRight<(task: FitTaskContext) => Promise<TrainedUpdate>>((next, step) => (task) => step.run(task, next), innermost);
  return {
    steps: names,
    downloadSpec: (model) => shaping?.downloadSpec!(model) ?? [...model],
    modelOf: (download) => shaping?.modelOf?.(download) ?? download,
    run,
  };
}

import { specMismatch, specOf, type NamedTensor, type TensorSpec, type Weights } from './tensors.js';
import { TASK_EXTRAS } from './taskExtras.js';

/**
 * How SCAFFOLD (Karimireddy et al. 2020) rides on a protocol that carries one list of tensors each way:
 * the fit download is [x; c] (global model, server control variate) and the fit upload is
 * [delta_y; delta_c], each the model's tensors followed by the same tensors again under CONTROL_PREFIX.
 * Both ends need this layout, so it lives in src/protocol/.
 */
export const SCAFFOLD_CONTROL_PREFIX = 'scaffold.control/';

/** The `FitInstructions.extra` flag that tells a client its fit task is a SCAFFOLD one. */
export const SCAFFOLD_EXTRA_KEY = TASK_EXTRAS.scaffold;

/** The model's spec followed by the control variate's: what a SCAFFOLD upload (and fit download) looks like. */
export function scaffoldSpec(model: readonly TensorSpec[]): TensorSpec[] {
  return [...model.map((t) => ({ name: t.name, shape: [...t.shape] })), ...model.map((t) => ({ name: SCAFFOLD_CONTROL_PREFIX + t.name, shape: [...t.shape] }))];
}

/** [first; control], the control tensors renamed under the prefix. `control` must match `first`'s spec. */
export function joinScaffold(first: Weights, control: Weights): Weights {
  const mismatch = specMismatch(specOf(first), specOf(control));
  if (mismatch) throw new Error(`the control variate does not match the model: ${mismatch}`);
  return [...first, ...control.map((t): NamedTensor => ({ name: SCAFFOLD_CONTROL_PREFIX + t.name, shape: t.shape, data: t.data }))];
}

/** Splits [first; control] back into its halves (control under its model names), checking the layout. */
export function splitScaffold(payload: Weights): { first: Weights; control: Weights } {
  if (payload.length % 2 !== 0) throw new Error(`a SCAFFOLD payload has an even number of tensors, got ${payload.length}`);
  const half = payload.length / 2;
  const first = payload.slice(0, half);
  const control = payload.slice(half).map((t): NamedTensor => {
    if (!t.name.startsWith(SCAFFOLD_CONTROL_PREFIX)) throw new Error(`tensor "${t.name}" of a SCAFFOLD payload's second half lacks the "${SCAFFOLD_CONTROL_PREFIX}" prefix`);
    return { name: t.name.slice(SCAFFOLD_CONTROL_PREFIX.length), shape: t.shape, data: t.data };
  });
  const mismatch = specMismatch(specOf(first), specOf(control));
  if (mismatch) throw new Error(`a SCAFFOLD payload's halves differ: ${mismatch}`);
  return { first, control };
}

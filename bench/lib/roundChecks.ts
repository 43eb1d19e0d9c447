/** bench/ckksRound.ts's check that a federation's result is right: exact FedAvg (plain), within 1e-6 (ckks). */
import { existsSync } from 'node:fs';
import { initialValue, meanStep, readFlat } from './shiftModel.js';
import type { Mode } from './roundTypes.js';

const TOLERANCE = 1e-6;

/**
 * Plain: every client's final model, and the coordinator's, must equal the exact FedAvg result (the values
 * are short binary fractions, so float32 holds it exactly). CKKS: every client's decrypted model must be
 * within 1e-6 of it, i.e. of the plain model.
 */
export function checkModels(mode: Mode, params: number, o: { readonly rounds: number; readonly clients: number }, clientFiles: readonly string[], coordinatorFile: string): { maxDiff: number; detail: string } {
  const shift = o.rounds * meanStep(o.clients);
  const files = mode === 'plain' ? [...clientFiles, coordinatorFile] : clientFiles;
  let maxDiff = 0;
  for (const file of files) {
    const model = readFlat(file);
    if (model.length !== params) throw new Error(`${mode}: ${file} holds ${model.length} values, expected ${params}`);
    let worst = 0;
    let mismatches = 0;
    let notANumber = 0;
    for (let i = 0; i < params; i++) {
      const expected = Math.fround(initialValue(i) + shift);
      const d = Math.abs(model[i]! - expected);
      if (d !== 0) mismatches++;
      if (Number.isNaN(d)) notANumber++;
      else if (d > worst) worst = d;
    }
    if (notANumber > 0) throw new Error(`${mode}: ${file} holds ${notANumber} NaN values`);
    if (mode === 'plain' && mismatches > 0) throw new Error(`plain: ${file} differs from the exact FedAvg model at ${mismatches} of ${params} values (max ${worst})`);
    if (mode === 'ckks' && !(worst <= TOLERANCE)) throw new Error(`ckks: ${file} is ${worst} away from the plain model (tolerance ${TOLERANCE})`);
    maxDiff = Math.max(maxDiff, worst);
  }
  const detail =
    mode === 'plain'
      ? `the coordinator's and ${clientFiles.length} clients' final models equal initial + ${shift} (the exact FedAvg result) at all ${params.toLocaleString('en')} values`
      : `${clientFiles.length} clients' decrypted final models within ${maxDiff.toExponential(1)} of the plain model (tolerance ${TOLERANCE})`;
  return { maxDiff, detail };
}

/**
 * A real model (tfjs) has no closed form: plain clients must hold the coordinator's final model bit for bit, CKKS
 * clients the same model as each other (they decrypt one sum), all finite; the CKKS model's distance to the plain
 * one is reported where both runs' files are there.
 */
export function checkTrainedModels(mode: Mode, params: number, clientFiles: readonly string[], coordinatorFile: string): { maxDiff: number; detail: string } {
  const reference = readFlat(mode === 'plain' ? coordinatorFile : clientFiles[0]!);
  let maxDiff = 0;
  for (const file of clientFiles) {
    const model = readFlat(file);
    if (model.length !== reference.length) throw new Error(`${mode}: ${file} holds ${model.length} values, expected ${reference.length}`);
    for (let i = 0; i < model.length; i++) {
      if (!Number.isFinite(model[i]!)) throw new Error(`${mode}: ${file} holds a non-finite value at ${i}`);
      if (model[i] !== reference[i]) throw new Error(`${mode}: ${file} differs from ${mode === 'plain' ? "the coordinator's" : "the first client's"} model at value ${i}`);
    }
  }
  const plainFile = coordinatorFile.replace(/ckks-coordinator\.f32$/, 'plain-coordinator.f32');
  let versusPlain = '';
  if (mode === 'ckks' && existsSync(plainFile)) {
    const plain = readFlat(plainFile);
    for (let i = 0; i < plain.length; i++) maxDiff = Math.max(maxDiff, Math.abs(plain[i]! - reference[i]!));
    versusPlain = `; max |ckks - plain| over the final models ${maxDiff.toExponential(1)}`;
  }
  return { maxDiff, detail: `${clientFiles.length} clients' final models of ${reference.length.toLocaleString('en')} values (about ${params.toLocaleString('en')} asked) agree ${mode === 'plain' ? "with the coordinator's" : 'with each other'}, all finite${versusPlain}` };
}

/** Where a round's time goes per client, from the clients' marks (bench/ckksRound.ts). */
import { formatTable } from './table.js';
import { steadyRounds, type FederationResult, type RoundData, type TimedMark } from './roundTypes.js';
import type { Mark } from '../ckksRoundClient.js';

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Per-client phases of one round (ms), from the clients' marks: where the round's time goes. */
interface Phases {
  fitDownload: number;
  fitDecrypt: number;
  train: number;
  prepare: number;
  encrypt: number;
  upload: number;
  betweenPhases: number;
  evaluateDecrypt: number;
  tail: number;
}

const PHASE_LABELS: Record<keyof Phases, string> = {
  fitDownload: 'fit: round start -> global received (coordinator encodes, streams down)',
  fitDecrypt: 'fit: decrypt the global (client)',
  train: 'fit: train (--trainer: add a constant or tfjs; after --train-ms of spin)',
  prepare: 'fit: contribution (weighted state, client)',
  encrypt: 'fit: encrypt (client, as the upload pulls it)',
  upload: 'fit: update up and acknowledged (coordinator adds as it streams)',
  betweenPhases: 'upload acked -> evaluate global received (other clients, sum, encode, stream down)',
  evaluateDecrypt: 'evaluate: decrypt the global (client, as it streams in; the next fit reuses it)',
  tail: 'evaluate: reply -> round end',
};

function phasesOf(marks: readonly TimedMark[], round: RoundData): Phases | undefined {
  const ms = marks.filter((m) => m.at >= round.startedAt && m.at <= round.completedAt + 1).sort((a, b) => a.at - b.at);
  const at = (mark: Mark, nth = 0) => ms.filter((m) => m.mark === mark)[nth]?.at;
  const fitEnd = at('fit-end');
  const fitSent = at('fit-sent');
  const evaluated = at('evaluated');
  if (fitEnd === undefined || fitSent === undefined || evaluated === undefined) return undefined;
  const decrypts = ms.filter((m) => m.mark === 'decrypt-start').map((m) => m.at);
  const decryptEnds = ms.filter((m) => m.mark === 'decrypt-end').map((m) => m.at);
  const sets = ms.filter((m) => m.mark === 'set-weights').map((m) => m.at);
  const fitDecryptIdx = decrypts.findIndex((t) => t < fitEnd);
  const evalDecryptIdx = decrypts.findIndex((t) => t > fitSent);
  const fitSet = sets.find((t) => t <= fitEnd)!;
  const evalSet = sets.find((t) => t > fitSent)!;
  const fitReceived = fitDecryptIdx >= 0 ? decrypts[fitDecryptIdx]! : fitSet;
  const fitDecrypt = fitDecryptIdx >= 0 ? decryptEnds[fitDecryptIdx]! - decrypts[fitDecryptIdx]! : 0;
  const evalReceived = evalDecryptIdx >= 0 ? decrypts[evalDecryptIdx]! : evalSet;
  const evaluateDecrypt = evalDecryptIdx >= 0 ? decryptEnds[evalDecryptIdx]! - decrypts[evalDecryptIdx]! : 0;
  const encStart = at('encrypt-start');
  const encEnd = at('encrypt-end');
  return {
    fitDownload: fitReceived - round.startedAt,
    fitDecrypt,
    train: fitEnd - fitSet,
    prepare: encStart !== undefined ? encStart - fitEnd : 0,
    encrypt: encStart !== undefined && encEnd !== undefined ? encEnd - encStart : 0,
    upload: fitSent - (encEnd ?? fitEnd),
    betweenPhases: evalReceived - fitSent,
    evaluateDecrypt,
    tail: round.completedAt - evaluated,
  };
}

/** Mean phases over clients and the given rounds. */
function meanPhases(result: FederationResult, rounds: readonly RoundData[], clients: number): Phases | undefined {
  const all: Phases[] = [];
  for (const round of rounds) {
    for (let k = 0; k < clients; k++) {
      const p = phasesOf(
        result.marks.filter((m) => m.name === `bench-${k}`),
        round,
      );
      if (p) all.push(p);
    }
  }
  if (all.length === 0) return undefined;
  const keys = Object.keys(PHASE_LABELS) as (keyof Phases)[];
  return Object.fromEntries(keys.map((key) => [key, mean(all.map((p) => p[key]))])) as unknown as Phases;
}

export function printPhases(plain: FederationResult, ckks: FederationResult, o: { readonly clients: number }): void {
  const p = meanPhases(plain, steadyRounds(plain), o.clients);
  const k = meanPhases(ckks, steadyRounds(ckks), o.clients);
  if (!p || !k) return;
  const keys = Object.keys(PHASE_LABELS) as (keyof Phases)[];
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const total = (x: Phases) => keys.reduce((a, key) => a + x[key], 0);
  console.log(`\nwhere a steady-state round's time goes, ${plain.params.toLocaleString('en')} params (mean over clients and rounds ${steadyRounds(ckks).map((r) => r.round).join(', ')}; clients' marks, phases overlap across clients):`);
  console.log(formatTable(['phase (per client)', 'plain', 'ckks'], [...keys.map((key) => [PHASE_LABELS[key], s(p[key]), s(k[key])]), ['round', s(total(p)), s(total(k))]]));
}

/**
 * Where a process's CPU time went, from a V8 CPU profile (`node --cpu-prof` or the inspector's Profiler): each
 * sample's self time is charged to the stage its function belongs to (encode, hash, socket, decode, stage +
 * sum, apply...). The stages follow the round's data flow; a function the rules do not know is "other".
 */
export interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string }; readonly children?: readonly number[] }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export const STAGES = ['encode', 'hash', 'socket', 'decode', 'stage + sum', 'apply', 'client: train + delta', 'garbage collection', 'other', 'idle'] as const;
export type Stage = (typeof STAGES)[number];

const rules: [Stage, (name: string, url: string) => boolean][] = [
  ['idle', (name) => name === '(idle)'],
  ['garbage collection', (name) => name === '(garbage collector)'],
  ['hash', (_, url) => url.includes('internal/crypto/hash')],
  ['encode', (name, url) => url.includes('protocol/chunking') || url.includes('encodeGlobal') || /^encode/.test(name)],
  ['decode', (_, url) => url.includes('protocol/tensorCodec')],
  ['stage + sum', (name, url) => url.includes('coordinator/aggregation/') || url.startsWith('wasm://') || name.startsWith('wasm-function')],
  ['apply', (_, url) => url.includes('strategies/applyUpdate')],
  ['client: train + delta', (_, url) => url.includes('constantStepTrainer') || url.includes('client/weightDelta')],
  [
    'socket',
    (name, url) =>
      /node_modules\/(ws|engine\.io[^/]*|socket\.io[^/]*|bufferutil)\//.test(url) ||
      /node:(net|stream)|internal\/(stream|net)/.test(url) ||
      ['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'onStreamRead', 'mask', 'unmask'].includes(name),
  ],
];

/**
 * Seconds of self time per stage. A native frame (no url: the C++ under `hash.update`, a typed array's `set`)
 * is charged to the JavaScript frame that called it.
 */
export function breakdown(profile: CpuProfile): Record<Stage, number> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stageOf = new Map<number, Stage>();
  const stage = (id: number): Stage => {
    const known = stageOf.get(id);
    if (known) return known;
    const { functionName, url } = byId.get(id)!.callFrame;
    const matched = rules.find(([, match]) => match(functionName, url))?.[0];
    const up = parent.get(id);
    const found = matched ?? (url === '' && !functionName.startsWith('(') && up !== undefined ? stage(up) : 'other');
    stageOf.set(id, found);
    return found;
  };
  for (const node of profile.nodes) stage(node.id);
  const out = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  profile.samples.forEach((id, i) => (out[stageOf.get(id) ?? 'other'] += (profile.timeDeltas[i] ?? 0) / 1e6));
  return out;
}

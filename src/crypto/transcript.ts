/**
 * Unambiguous bytes to sign: a domain label, then every field length-prefixed (u32 big-endian), so no two
 * different field lists can produce the same bytes and no signature made for one purpose verifies for another.
 */
export type TranscriptField = string | number | Uint8Array;

export function transcript(label: string, fields: readonly TranscriptField[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts = [encoder.encode(label), ...fields.map((f) => (f instanceof Uint8Array ? f : encoder.encode(typeof f === 'number' ? String(f) : f)))];
  const total = parts.reduce((s, p) => s + 4 + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

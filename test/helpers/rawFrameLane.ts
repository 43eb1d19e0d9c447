import fc from 'fast-check';
import { asAck, Tally } from './fuzzLanes.js';
import { anyValue, binaryValue } from './fuzzValues.js';
import { RawWire } from './rawWire.js';

/** Frames sent back to back on one connection (a binary event is a text frame followed by its attachments). */
export type FrameInput = readonly (string | Uint8Array)[];

const asBytes = (b: Uint8Array | Float32Array | Float64Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const deep = (depth: number, open: string, leaf: string, close: string) => `42["msg",${open.repeat(depth)}${leaf}${close.repeat(depth)}]`;

/** Hand-picked protocol violations: reserved names, bad ack ids, attachment abuse, wrong packet types, extreme nesting. */
const CRAFTED: readonly FrameInput[] = [
  ['42["disconnect","spoofed"]'],
  ['42["disconnecting"]'],
  ['42["connect"]'],
  ['42["newListener","msg"]'],
  ['42["removeListener","msg"]'],
  ['42[]'],
  ['42[1,2,3]'],
  ['42{"msg":1}'],
  ['42"msg"'],
  ['42null'],
  ['4299999999999999999999999["msg",0]'],
  ['42-1["msg",0]'],
  ['43["x"]'],
  ['431[{"ok":true}]'],
  ['451-["msg",{"_placeholder":true,"num":5}]', Uint8Array.of(1)],
  ['451-["msg",{"_placeholder":true,"num":"0"}]', Uint8Array.of(1)],
  ['451-["msg",{"_placeholder":true,"num":-1}]', Uint8Array.of(1)],
  ['4511-["msg",{"_placeholder":true,"num":0}]'],
  ['450-["msg",0]'],
  ['45x-["msg",0]'],
  ['452-["msg",{"_placeholder":true,"num":0}]', Uint8Array.of(1)],
  ['451-["stream:chunk","id",0,{"_placeholder":true,"num":0}]', Uint8Array.of(1, 2, 3)],
  [`451-["msg",${'['.repeat(20_000)}{"_placeholder":true,"num":0}${']'.repeat(20_000)}]`, Uint8Array.of(1)],
  [deep(100_000, '[', '1', ']')],
  [deep(50_000, '{"type":', '"hello"', '}')],
  // Leaving the namespace and joining again: the coordinator sees a new connection.
  ['41', '40'],
  ['40'],
  ['40{"token":1}'],
  ['4/admin,0'],
  ['44{"message":"x"}'],
  ['46'],
  ['1'],
  ['2'],
  ['3'],
  ['5'],
  ['6'],
  ['7'],
  [''],
  [Uint8Array.of()],
];

/** Frames no socket.io client would send: crafted violations, random text and bytes, packet prefixes with random JSON. */
export const frameInputs: fc.Arbitrary<FrameInput> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...CRAFTED) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 500 }).map((s): FrameInput => [s]) },
  { weight: 1, arbitrary: binaryValue.map((b): FrameInput => [asBytes(b)]) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('0', '2', '3', '4', '40', '42', '43', '44', '45', '46', '421', '4/x,', '451-'), fc.json())
      .map(([prefix, json]): FrameInput => [prefix + json]),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.nat({ max: 2 ** 31 - 1 }), fc.constantFrom('msg', 'stream:begin', 'stream:end', 'stream:chunk'), anyValue).map(([id, event, v]): FrameInput => {
      let text: string;
      try {
        text = JSON.stringify([event, v]) ?? '[]';
      } catch {
        text = '[]';
      }
      return [`42${id}${text}`];
    }),
  },
);

/**
 * Sends raw frames on hand-spoken socket.io connections. After each input the connection either still
 * answers (a malformed message is refused with an ack) or the server has closed it; it never hangs. Every
 * ack the server sent to a fuzzed frame must be a refusal.
 */
export class RawFrameLane {
  private wire: RawWire | undefined;
  private readonly wires: RawWire[] = [];

  constructor(
    private readonly url: string,
    readonly tally: Tally,
  ) {}

  async run(frames: FrameInput): Promise<void> {
    const wire = await this.current();
    this.tally.inputs++;
    for (const f of frames) wire.send(f);
    let probe = await wire.request('msg', [0], 3_000);
    if (probe === 'timeout') {
      // A frame like "41" (or "4" + "1..." from random JSON) legally leaves the namespace: join again and retry.
      wire.send('40');
      probe = await wire.request('msg', [0], 3_000);
    }
    if (probe === 'timeout') throw new Error(`the connection neither answered nor closed after ${JSON.stringify(frames.map((f) => (typeof f === 'string' ? f.slice(0, 200) : `<${f.length} bytes>`)))}`);
    if (probe === 'closed') {
      this.tally.serverClosed++;
      this.wire = undefined;
      return;
    }
    const ack = asAck(probe, 'the probe');
    if (ack.ok || !ack.error.startsWith('malformed message: ')) throw new Error(`the probe got ${JSON.stringify(probe)}`);
  }

  /** Every ack the server sent on these connections, checked to be a refusal. */
  refusalsChecked(): number {
    let n = 0;
    for (const w of this.wires) {
      for (const payload of w.received) {
        const ack = asAck(payload, 'a raw frame');
        if (ack.ok) throw new Error('a raw frame was acknowledged as accepted');
        n++;
      }
    }
    return n;
  }

  close(): void {
    for (const w of this.wires) w.close();
  }

  private async current(): Promise<RawWire> {
    if (!this.wire || this.wire.closed) {
      this.wire = await RawWire.open(this.url);
      this.wires.push(this.wire);
      this.tally.connections++;
    }
    return this.wire;
  }
}

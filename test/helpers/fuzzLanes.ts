import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { jsonDepthExceeds, MAX_JSON_DEPTH, PRE_AUTH_MAX_PACKET_BYTES, PRE_AUTH_MAX_PACKETS } from '../../src/protocol/guardedParser.js';
import type { Ack } from '../../src/protocol/socketLike.js';
import { applyMutations, mutationsOf } from './fuzzMutations.js';
import { anyValue } from './fuzzValues.js';
import { admissibleHello, type HelloRules } from './helloOracle.js';
import { connectRawSocket } from './socketPair.js';

/** One event put on a socket: its name, its arguments, and whether it asks for an acknowledgement. */
export interface FuzzInput {
  readonly event: string;
  readonly args: readonly unknown[];
  readonly acked: boolean;
}

/** What a lane did: every input counts once, whatever became of it. */
export class Tally {
  inputs = 0;
  accepted = 0;
  refused = 0;
  connections = 0;
  /** Connections the server closed after a protocol violation (raw frames). */
  serverClosed = 0;
}

/** Valid messages of each kind, for the mutation fuzzers to start from. */
export interface MessageBases {
  readonly messages: readonly Record<string, unknown>[];
  readonly headers: readonly Record<string, unknown>[];
  readonly chunk: Record<string, unknown>;
  readonly trailer: Record<string, unknown>;
  readonly abort: Record<string, unknown>;
}

export const PROTOCOL_EVENTS = ['msg', 'stream:begin', 'stream:chunk', 'stream:end', 'stream:whole', 'stream:abort'];
/** Arguments each event takes before its ack callback. */
const ARITY: Record<string, number> = { msg: 1, 'stream:begin': 1, 'stream:chunk': 3, 'stream:end': 1, 'stream:whole': 2, 'stream:abort': 1 };
/** Names socket.io-client refuses to emit (its parser also refuses them on the server side). */
const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
const ODD_NAMES = ['message', 'error', 'connection', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'stream:', 'msg ', 'MSG', 'stream:begin ', 'stream:chunk\u0000', ''];

/** A base message, or one to three mutations of it (mostly the latter). */
function mutatedFrom(bases: readonly Record<string, unknown>[]): fc.Arbitrary<unknown> {
  return fc
    .constantFrom(...bases)
    .chain((base) => fc.oneof({ arbitrary: fc.constant(base), weight: 1 }, { arbitrary: mutationsOf(base).map((m) => applyMutations(base, m)), weight: 8 }));
}

/**
 * Inputs for every event the coordinator listens to, and for events it does not: arbitrary values, and
 * valid messages with mutated fields; plus known events with the wrong number of arguments.
 */
export function fuzzInputs(bases: MessageBases): fc.Arbitrary<FuzzInput> {
  const acked = (event: string) => (args: readonly unknown[]): FuzzInput => ({ event, args, acked: true });
  const record = (v: unknown) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
  return fc.oneof(
    { weight: 3, arbitrary: anyValue.map((v) => acked('msg')([v])) },
    { weight: 6, arbitrary: mutatedFrom(bases.messages).map((v) => acked('msg')([v])) },
    { weight: 1, arbitrary: anyValue.map((v) => acked('stream:begin')([v])) },
    { weight: 2, arbitrary: mutatedFrom(bases.headers).map((v) => acked('stream:begin')([v])) },
    { weight: 1, arbitrary: fc.tuple(anyValue, anyValue, anyValue).map(acked('stream:chunk')) },
    { weight: 1, arbitrary: mutatedFrom([bases.chunk]).map((c) => acked('stream:chunk')([record(c).id, record(c).seq, record(c).bytes])) },
    { weight: 1, arbitrary: anyValue.map((v) => acked('stream:end')([v])) },
    { weight: 1, arbitrary: mutatedFrom([bases.trailer]).map((v) => acked('stream:end')([v])) },
    // A stream sent whole: a header with its trailer's fields, and the bytes (wholeStream.ts).
    { weight: 1, arbitrary: fc.tuple(anyValue, anyValue).map(acked('stream:whole')) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(mutatedFrom(bases.headers.map((h) => ({ ...h, sha256: record(bases.trailer).sha256, signature: record(bases.trailer).signature }))), fc.oneof(fc.constant(record(bases.chunk).bytes), anyValue))
        .map(acked('stream:whole')),
    },
    { weight: 1, arbitrary: fc.oneof(anyValue, mutatedFrom([bases.abort])).map((v): FuzzInput => ({ event: 'stream:abort', args: [v], acked: false })) },
    {
      weight: 1,
      arbitrary: fc
        .record({
          event: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...ODD_NAMES)).filter((n) => !PROTOCOL_EVENTS.includes(n) && !RESERVED.includes(n)),
          args: fc.array(anyValue, { maxLength: 3 }),
        })
        .map(({ event, args }): FuzzInput => ({ event, args, acked: false })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ event: fc.constantFrom(...PROTOCOL_EVENTS), args: fc.array(anyValue, { maxLength: 4 }) })
        .filter(({ event, args }) => args.length !== ARITY[event])
        .map(({ event, args }): FuzzInput => ({ event, args, acked: false })),
    },
  );
}

/** A short description of an input for failure messages (values cut to a few hundred characters). */
export function describeInput(input: FuzzInput): string {
  const text = (v: unknown) => {
    try {
      return (ArrayBuffer.isView(v) ? `<${v.constructor.name} of ${v.byteLength} bytes>` : JSON.stringify(v) ?? String(v)).slice(0, 300);
    } catch {
      return String(v).slice(0, 300);
    }
  };
  return `${input.event}(${input.args.map(text).join(', ')})`;
}

/** Checks that a reply is a protocol Ack: `{ ok: true }` or `{ ok: false, error: <non-empty string> }`. */
export function asAck(reply: unknown, what: string): Ack {
  const r = reply as { ok?: unknown; error?: unknown } | null;
  if (typeof r === 'object' && r !== null && r.ok === true && Object.keys(r).length === 1) return { ok: true };
  if (typeof r === 'object' && r !== null && r.ok === false && typeof r.error === 'string' && r.error.length > 0) return { ok: false, error: r.error };
  throw new Error(`malformed acknowledgement for ${what}: ${JSON.stringify(reply)}`);
}

/** Emits with an ack and waits for it; a missing ack within `timeoutMs` (a stall) fails the test. */
export async function ask(socket: Socket, event: string, args: readonly unknown[], timeoutMs = 5_000): Promise<Ack> {
  let reply: unknown;
  try {
    reply = await socket.timeout(timeoutMs).emitWithAck(event, ...args);
  } catch (e) {
    throw new Error(`no acknowledgement for ${event} (${(e as Error).message})`);
  }
  return asAck(reply, event);
}

/** A message every peer refuses as malformed without changing any state: proves the socket still answers. */
export async function expectStillAnswering(socket: Socket, after: FuzzInput): Promise<void> {
  const ack = await ask(socket, 'msg', [0]);
  if (ack.ok || !ack.error.startsWith('malformed message: ')) throw new Error(`after ${describeInput(after)}: the probe got ${JSON.stringify(ack)}`);
}

/** Whether socket.io's client would send `value` with binary attachments (a Buffer, ArrayBuffer or view inside). */
function carriesBinary(root: unknown): boolean {
  // A stack, not recursion: fuzzed values nest deeper than the call stack goes.
  const stack = [root];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const value = stack.pop();
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    stack.push(...Object.values(value));
  }
  return false;
}

/**
 * Why the coordinator's parser closes an unauthenticated connection on this input before any schema sees it
 * (guardedParser.ts: binary, a packet over the pre-login size, JSON nested too deep), or undefined.
 */
export function closedBeforeLogin(input: FuzzInput): string | undefined {
  if (carriesBinary(input.args)) return 'binary before login';
  let text: string;
  try {
    text = JSON.stringify([input.event, ...input.args]);
  } catch {
    return undefined;
  }
  if (text.length > PRE_AUTH_MAX_PACKET_BYTES - 64) return 'a packet over the pre-login size';
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH - 1)) return 'JSON nested too deep';
  return undefined;
}

/**
 * Fuzzes the handshake from sockets that never authenticate. The oracle: the first hello that
 * `admissibleHello` accepts is answered with a challenge (ok), everything else is refused; a refused
 * handshake message (schema-valid but wrong) is audited and closes the connection, after which the lane
 * continues on a fresh socket.
 */
export class UnauthenticatedLane {
  private socket: Socket | undefined;
  private challenged = false;
  /** Packets sent on the current socket. */
  private packets = 0;
  /** Sockets whose handshake the coordinator refused: each must be disconnected by the server. */
  readonly refusedSockets: Socket[] = [];
  /** Reasons of those refusals: each must be in the audit trail. */
  readonly refusalReasons: string[] = [];

  constructor(
    private readonly url: string,
    private readonly rules: HelloRules,
    readonly tally: Tally,
  ) {}

  async run(input: FuzzInput): Promise<void> {
    // A fresh socket before the parser's packet budget before login runs out (each input may send a probe too).
    if (this.packets + 2 > PRE_AUTH_MAX_PACKETS) this.rotate();
    const socket = await this.current();
    this.tally.inputs++;
    this.packets += input.acked ? 1 : 2;
    if (closedBeforeLogin(input) !== undefined) {
      // Not parsed at all: the connection is closed, and nothing is acknowledged on it.
      socket.emit(input.event, ...input.args);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the parser did not close the connection for ${describeInput(input)}`)), 5_000);
        const check = () => (socket.connected ? setTimeout(check, 10) : (clearTimeout(timer), resolve()));
        check();
      });
      this.tally.serverClosed++;
      this.socket = undefined;
      return;
    }
    if (!input.acked) {
      socket.emit(input.event, ...input.args);
      await expectStillAnswering(socket, input);
      return;
    }
    const admissible = input.event === 'msg' && !this.challenged && admissibleHello(input.args[0], this.rules);
    const ack = await ask(socket, input.event, input.args);
    if (ack.ok) {
      if (!admissible) throw new Error(`accepted an input the protocol refuses: ${describeInput(input)}`);
      this.tally.accepted++;
      this.challenged = true;
      return;
    }
    this.tally.refused++;
    if (admissible) throw new Error(`refused an admissible hello (${ack.error}): ${describeInput(input)}`);
    if (input.event === 'msg' && !ack.error.startsWith('malformed message: ')) {
      this.refusalReasons.push(ack.error);
      this.refusedSockets.push(socket);
      this.socket = undefined;
    }
  }

  close(): void {
    this.socket?.disconnect();
    for (const s of this.refusedSockets) s.disconnect();
  }

  private rotate(): void {
    this.socket?.disconnect();
    this.socket = undefined;
  }

  private async current(): Promise<Socket> {
    if (!this.socket) {
      this.socket = await connectRawSocket(this.url);
      this.packets = 0;
      this.challenged = false;
      this.tally.connections++;
    }
    return this.socket;
  }
}

/**
 * Fuzzes an authenticated session that holds no task: whatever it sends must be refused, and the session
 * must survive it (still connected, still answered by its session, which refuses a second hello by name).
 */
export class SessionLane {
  private last = 'nothing yet';
  private lost: string | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly hello: Record<string, unknown>,
    readonly tally: Tally,
  ) {
    socket.on('disconnect', (reason) => (this.lost ??= `${reason} after ${this.last}`));
  }

  async run(input: FuzzInput): Promise<void> {
    if (this.lost) throw new Error(`the authenticated fuzzer was disconnected (${this.lost})`);
    this.last = describeInput(input);
    this.tally.inputs++;
    if (!input.acked) {
      this.socket.emit(input.event, ...input.args);
      const probe = await ask(this.socket, 'msg', [this.hello]);
      if (probe.ok || probe.error !== 'a client may not send "hello" now') throw new Error(`after ${describeInput(input)}: the session probe got ${JSON.stringify(probe)}`);
      return;
    }
    const ack = await ask(this.socket, input.event, input.args);
    if (ack.ok) throw new Error(`a session without tasks had an input accepted: ${describeInput(input)}`);
    this.tally.refused++;
  }
}

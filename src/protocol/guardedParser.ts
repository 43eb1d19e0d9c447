import { Decoder, Encoder, type Packet } from 'socket.io-parser';

/**
 * socket.io's own parser, with bounds checked before it parses anything. JSON.parse takes about half a second
 * on a megabyte of nested brackets, before any schema can look at the message; no Cohort message nests deeper
 * than a handful of levels. Until its connection authenticates, a decoder also takes only small text packets
 * (a hello or an auth), a few of them, and no binary at all.
 */
export const MAX_JSON_DEPTH = 32;
/** Largest text packet before authentication: a hello with a model spec of a few thousand tensors fits. */
export const PRE_AUTH_MAX_PACKET_BYTES = 256 * 1024;
/** Packets before authentication: a hello and an auth need two; room for a client's mistakes, told one by one. */
export const PRE_AUTH_MAX_PACKETS = 32;

/** Decoders by an object they decoded, so the server can unlock the decoder of the connection it authenticated. */
const decoderOf = new WeakMap<object, GuardedDecoder>();

/** Nesting depth of JSON text, stopping early past `limit`: one pass, no allocation. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

export class GuardedDecoder extends Decoder {
  private authenticated = false;
  private packets = 0;

  constructor() {
    super();
    // Registered before socket.io's own listener: the payload is marked before any handler sees it.
    this.on('decoded', (packet: Packet) => {
      if (this.authenticated || !Array.isArray(packet.data)) return;
      for (const arg of packet.data) if (typeof arg === 'object' && arg !== null) decoderOf.set(arg as object, this);
    });
  }

  override add(obj: unknown): void {
    if (typeof obj === 'string') {
      if (!this.authenticated) {
        if (++this.packets > PRE_AUTH_MAX_PACKETS) throw new Error(`more than ${PRE_AUTH_MAX_PACKETS} packets before authentication`);
        if (obj.length > PRE_AUTH_MAX_PACKET_BYTES) throw new Error(`a packet of ${obj.length} characters before authentication (limit ${PRE_AUTH_MAX_PACKET_BYTES})`);
        // Binary events and acks: their attachments follow as binary frames, which nothing before login needs.
        if (obj[0] === '5' || obj[0] === '6') throw new Error('binary data before authentication');
      }
      if (jsonDepthExceeds(obj, MAX_JSON_DEPTH)) {
        if (!this.authenticated) throw new Error(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
        // An authenticated peer is told, message by message (its ack id kept), rather than cut off.
        super.add(withDepthRefusal(obj));
        return;
      }
    } else if (!this.authenticated) {
      throw new Error('binary data before authentication');
    }
    super.add(obj);
  }

  unlock(): void {
    this.authenticated = true;
  }
}

const DEPTH_REFUSAL = `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;

/**
 * The packet with its arguments replaced by a marker the Peer refuses by name, then nulls: its header (ack id,
 * attachment count) and event kept, and as many arguments as it had, so the handler still finds its ack.
 */
function withDepthRefusal(packet: string): string {
  const body = packet.search(/[[{]/);
  const event = body < 0 ? null : /^\[\s*("(?:[^"\\]|\\.)*")/.exec(packet.slice(body, body + 200));
  if (!event) throw new Error(DEPTH_REFUSAL);
  const extra = Math.max(0, topLevelItems(packet, body) - 2);
  return `${packet.slice(0, body)}[${[event[1], JSON.stringify({ refusedByParser: DEPTH_REFUSAL }), ...Array<string>(extra).fill('null')].join(',')}]`;
}

/** Items of the JSON array starting at `from`, counted by its top-level commas (one pass, nothing parsed). */
function topLevelItems(text: string, from: number): number {
  let depth = 0;
  let items = 1;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) {
      if (--depth === 0) return items;
    } else if (c === 0x2c && depth === 1) items++;
  }
  return items;
}

/** The parser's refusal, when `payload` is the marker it put in place of arguments it would not parse. */
export function parserRefusal(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const text = (payload as { refusedByParser?: unknown }).refusedByParser;
  return typeof text === 'string' ? text : undefined;
}

/**
 * Lifts the pre-authentication limits of the connection whose decoder produced `payload` (an argument of an
 * event it decoded, as the listener received it). Returns whether a decoder was found.
 */
export function unlockDecoderOf(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const decoder = decoderOf.get(payload);
  decoder?.unlock();
  return decoder !== undefined;
}

/** The parser to give socket.io's Server (`parser` option). */
export const guardedParser = { Encoder, Decoder: GuardedDecoder };

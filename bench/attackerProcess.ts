/**
 * The attacker of bench/attacks.ts, in its own process (so the coordinator's RSS and descriptors are its own):
 * keeps one attack going against a coordinator on loopback, from 127.0.0.2-5, until it is killed. Each attack
 * re-opens what the coordinator closes, so the pressure is sustained for the whole measurement.
 *
 *   (forked by attacks.ts) attackerProcess.ts '<AttackConfig as JSON>'
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket as TcpSocket } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { Peer, type StreamSink } from '../src/protocol/peer.js';
import { encodedByteLength, encodeWeightsChunks } from '../src/protocol/tensorCodec.js';
import type { SocketLike } from '../src/protocol/socketLike.js';
import { rawHandshake, rawHello } from '../test/helpers/rawHandshake.js';
import { benchSpec } from './lib/modelSpec.js';

export type AttackName = 'squat' | 'deep-json' | 'conn-flood' | 'refusal-flood' | 'stall';
export interface AttackConfig {
  readonly url: string;
  readonly attack: AttackName;
  readonly params: number;
}

const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const config = JSON.parse(process.argv[2] ?? 'null') as AttackConfig | null;
if (!config) throw new Error("usage: attackerProcess.ts '<AttackConfig as JSON>' (forked by bench/attacks.ts)");
const { url } = config;
const port = Number(new URL(url).port);
const tally = { opened: 0, closedByServer: 0 };
setInterval(() => process.send?.(tally), 500).unref();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `open` forever in `lanes` parallel loops; each loop waits for its connection to end, then opens another. */
function sustain(lanes: number, open: (lane: number) => Promise<void>): void {
  for (let lane = 0; lane < lanes; lane++) {
    void (async () => {
      for (;;) {
        tally.opened++;
        await open(lane).catch(() => undefined);
        tally.closedByServer++;
        await pause(20);
      }
    })();
  }
}

function tcp(localAddress: string): Promise<TcpSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.on('error', reject);
    socket.resume();
  });
}
const ended = (s: TcpSocket) => new Promise<void>((r) => s.once('close', () => r()));

/** A masked client WebSocket text frame (RFC 6455 5.2), any length. */
function wsFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, 0x80 | n]) : n < 65_536 ? Buffer.from([0x81, 0xfe, n >> 8, n & 255]) : Buffer.concat([Buffer.from([0x81, 0xff]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
  for (let i = 0; i < n; i++) payload[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, mask, payload]);
}
const UPGRADE = ['GET /socket.io/?EIO=4&transport=websocket HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n');

function socketIo(localAddress: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, localAddress } as Parameters<typeof io>[1]);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => {
      socket.close();
      reject(e);
    });
  });
}
const gone = (s: Socket) => new Promise<void>((r) => (s.connected ? s.once('disconnect', () => r()) : r()));

switch (config.attack) {
  case 'squat':
    // Items 1-2: 64 idle socket.io connections (every handshake slot), 16 from each of four addresses.
    sustain(64, async (lane) => gone(await socketIo(ADDRESSES[lane % 4]!)));
    break;
  case 'deep-json': {
    // Item 3: four lanes sending nested brackets before login as fast as the coordinator lets them: 1 MB
    // frames and 240 kB ones (under the pre-login size limit, so the depth check alone refuses them). A lane
    // moves on as soon as its frame is refused, leaving the old connection to the coordinator's deadline.
    const frames = [`42["msg",${'['.repeat(500_000)}${']'.repeat(500_000)}]`, `42["msg",${'['.repeat(120_000)}${']'.repeat(120_000)}]`].map(wsFrame);
    let sent = 0;
    sustain(4, async (lane) => {
      const s = await tcp(ADDRESSES[lane]!);
      s.write(UPGRADE);
      await new Promise<void>((resolve) => {
        s.on('data', (d: Buffer) => {
          if (d.includes('0{') && !d.includes('40{')) s.write(wsFrame('40'));
          else if (d.includes('40{')) s.write(frames[sent++ % 2]!);
          else resolve(); // the server's close frame: the packet was refused
        });
        s.once('close', () => resolve());
        setTimeout(resolve, 2_000);
      });
    });
    break;
  }
  case 'conn-flood':
    // Item 4: 2,000 connections outside socket.io: half-sent upgrades and engine.io handshakes without "40".
    sustain(2_000, async (lane) => {
      const s = await tcp(ADDRESSES[lane % 4]!);
      s.write(lane % 2 === 0 ? UPGRADE.slice(0, 60) : UPGRADE);
      await ended(s);
    });
    break;
  case 'refusal-flood':
    // Item 5: hellos refused as fast as the coordinator takes them (a model that does not match).
    sustain(16, async (lane) => {
      const s = await socketIo(ADDRESSES[lane % 4]!);
      await rawHandshake(s, rawHello(`stranger-${lane}`)).catch(() => undefined);
      s.disconnect();
    });
    break;
  case 'stall':
    // Item 6: two clients that take each fit task, start its upload, send a few bytes and go quiet.
    for (const name of ['staller-1', 'staller-2']) void stall(name);
    break;
}

async function stall(name: string): Promise<void> {
  const socket = await socketIo('127.0.0.2');
  const spec = benchSpec(config!.params);
  const { ack } = await rawHandshake(socket, rawHello(name, { modelSpec: spec.map((t) => ({ name: t.name, shape: [...t.shape] })) }));
  if (!ack.ok) throw new Error(`staller refused: ${ack.error}`);
  const peer = new Peer(socket as unknown as SocketLike, { maxTransferBytes: 2 ** 31 });
  // The first 4 KiB of a genuine update: the coordinator accepts them, then waits for the rest.
  const zeros = spec.map((t) => ({ name: t.name, shape: t.shape, data: new Float32Array(t.shape[0]!) }));
  const first = encodeWeightsChunks(zeros, 4_096).next().value as Uint8Array;
  const totalBytes = encodedByteLength(spec);
  peer.onStream((meta): StreamSink => ({
    write: () => undefined,
    end: () => {
      if (meta.kind !== 'fit') return;
      const id = randomUUID();
      const upload = { kind: 'fit-result', round: meta.round, taskId: meta.taskId, numExamples: 10, metrics: {} };
      void socket.timeout(60_000).emitWithAck('stream:begin', { id, meta: upload, totalBytes })
        .then(() => socket.emit('stream:chunk', id, 0, first, () => undefined))
        .catch(() => undefined);
    },
    abort: () => undefined,
  }));
}

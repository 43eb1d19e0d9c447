import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { startClient, type ClientHandle } from '../../../src/client/clientNode.js';
import { LinearTrainer } from '../../helpers/linearTrainer.js';
import { silent } from '../../helpers/silentLogger.js';
import { waitUntil } from '../../helpers/waitUntil.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a message socket.io held back while a connection was dying', () => {
  it('is dropped with that connection, never sent ahead of the next connection\'s hello', async () => {
    // A real socket.io endpoint that pings every 100 ms and gives up 100 ms later, so that one stalled event loop
    // (a busy process hosting thousands of clients) outlives a connection's ping deadline.
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], pingInterval: 100, pingTimeout: 100 });
    const connections: { type: string; nonce?: string }[][] = [];
    io.on('connection', (socket) => {
      const received: { type: string; nonce?: string }[] = [];
      connections.push(received);
      socket.on('msg', (message: { type: string; nonce?: string }, ack?: (reply: unknown) => void) => {
        received.push({ type: message.type, ...(message.nonce ? { nonce: message.nonce } : {}) });
        ack?.({ ok: true });
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => io.close(() => r(undefined))));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    let stalled = false;
    const client: ClientHandle = startClient({
      url,
      name: 'site',
      trainer: new LinearTrainer([[1]], [1]),
      logger: silent,
      reconnectDelayMs: 50,
      reconnectDelayMaxMs: 100,
      onEvent: (event) => {
        if (event.type !== 'connected' || stalled) return;
        // The first connection's hello leaves after its ping deadline passed: socket.io buffers it (the
        // connection is about to close for "ping timeout") and, left alone, sends it first on the next one.
        stalled = true;
        const until = Date.now() + 300;
        while (Date.now() < until);
      },
    });
    cleanups.push(() => client.stop());

    await waitUntil(() => connections.length >= 2 && connections[1]!.length >= 1, 'a second connection with a message');
    await new Promise((r) => setTimeout(r, 200)); // anything else that connection would get
    const second = connections[1]!;
    expect(second.map((m) => m.type)).toEqual(['hello']);
    expect(second[0]!.nonce).not.toBe(connections[0]![0]?.nonce);
  });
});

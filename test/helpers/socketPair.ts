import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import type { SocketLike } from '../../src/protocol/socketLike.js';

/** Connects a raw socket.io-client socket (websocket only, no reconnection) and waits for `connect`. */
export async function connectRawSocket(url: string): Promise<ClientSocket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(e));
  });
  return socket;
}

/** Resolves once the socket is disconnected (at once if it already is). */
export function disconnected(socket: ClientSocket): Promise<string> {
  if (!socket.connected) return Promise.resolve('already disconnected');
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}

export interface SocketPair {
  readonly url: string;
  /** The server's end of the connection. */
  readonly server: SocketLike;
  /** The client's end, usable raw (emitWithAck) to play a misbehaving peer. */
  readonly client: ClientSocket;
  close(): Promise<void>;
}

/**
 * A real socket.io server on 127.0.0.1 (free port) and one connected socket.io-client socket, both
 * websocket-only: the Peer tests run over actual loopback sockets, not an in-memory fake.
 */
export async function openSocketPair(maxHttpBufferSize = 1e6): Promise<SocketPair> {
  const http = createServer();
  const ioServer = new Server(http, { transports: ['websocket'], maxHttpBufferSize, serveClient: false });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const accepted = new Promise<ServerSocket>((resolve) => ioServer.once('connection', resolve));
  const client = await connectRawSocket(url);
  const server = await accepted;
  return {
    url,
    server: server as unknown as SocketLike,
    client,
    close: async () => {
      client.disconnect();
      await new Promise<void>((resolve) => ioServer.close(() => resolve()));
    },
  };
}

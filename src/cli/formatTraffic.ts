/** Bytes in the unit that reads best: kB below a megabyte, MB above. */
function size(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`;
}

/**
 * The traffic line of `cohort coordinator` and `cohort simulate`: what the coordinator's TCP sockets carried
 * (TLS, WebSocket and socket.io framing, control messages, handshakes and key setup all included), and the
 * model payloads within it.
 */
export function formatTraffic(socket: { received: number; sent: number }, payloadBytes: number, rounds: number): string {
  const total = socket.received + socket.sent;
  return (
    `bytes on the socket: ${size(total)} (${size(socket.received)} received, ${size(socket.sent)} sent) in ${rounds} rounds ` +
    `(${size(total / Math.max(1, rounds))} a round); model payloads ${size(payloadBytes)} of it`
  );
}

import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** `ip:port` of a peer, for logs and the sessions API. */
export function remoteOf(socket: Pick<Socket, 'remoteAddress' | 'remotePort'>): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
}

/** Closes with a reason trimmed to the 123 bytes a close frame allows. Spec: RFC 6455 §5.5.1 */
export function closeWebSocket(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === socket.CLOSED || socket.readyState === socket.CLOSING) return;
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  try {
    socket.close(code, text);
  } catch {
    socket.terminate();
  }
}

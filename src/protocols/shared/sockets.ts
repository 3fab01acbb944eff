import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { GatewayError, httpStatusOf } from '../../core/errors';

/** `ip:port` of a peer, for logs and the sessions API. */
export function remoteOf(socket: Pick<Socket, 'remoteAddress' | 'remotePort'>): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
}

/** The client IP of an `ip:port` peer string (IPv4-mapped IPv6 as plain IPv4). */
export function ipOf(remote: string | undefined): string {
  if (!remote) return '';
  const withoutPort = /^\[(.*)\]:\d+$/.exec(remote)?.[1] ?? remote.replace(/:\d+$/, '');
  return withoutPort.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
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

/**
 * The close code a refused WebSocket viewer gets: 4401/4403 for admission refusals, 1013 (try
 * again later) when admission is unavailable, otherwise 4000 + the HTTP status (4404, 4502 ...).
 * Spec: RFC 6455 §7.4.2 (4000-4999 private use; 1013 from the IANA registry).
 */
export function wsCloseCodeOf(err: unknown): number {
  if (err instanceof GatewayError && err.code === 'UNAVAILABLE') return 1013;
  return 4000 + httpStatusOf(err);
}

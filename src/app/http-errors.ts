import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errorBody, httpStatusOf, type ErrorCode } from '../core/errors';

/** A request line longer than this (of a request whose head overflowed) is a URL too long. */
const LONG_REQUEST_LINE = 4096;

/**
 * Errors the HTTP framework raises before any route runs, answered in the documented
 * `{code, message}` body like every other error: a path parameter over the router's limit is
 * 414 URI_TOO_LONG, a too-large request head 431 HEADERS_TOO_LARGE (or 414 when its request
 * line is what made it large), a bad URL 400.
 */
export function frameworkError(err: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  const error =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new GatewayError('URI_TOO_LONG', 'the URL is too long (a path segment exceeds 200 characters)')
      : new GatewayError('BAD_REQUEST', err.message);
  void reply.code(httpStatusOf(error)).send(errorBody(error));
}

/** Node's `clientError` (the request never reached the router). Spec: RFC 9110 §15.5.15, RFC 6585 §5 */
export function clientError(err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let code: ErrorCode = 'BAD_REQUEST';
  let message = 'malformed HTTP request';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    code = 'TIMEOUT';
    message = 'the request was not received in time';
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    // Node hands the bytes it had as a Buffer (fastify's typing says otherwise).
    const raw: unknown = err.rawPacket;
    const packet = Buffer.isBuffer(raw) ? raw : undefined;
    const lineEnd = packet ? packet.indexOf('\r\n') : -1;
    const longLine = packet !== undefined && (lineEnd < 0 || lineEnd > LONG_REQUEST_LINE);
    code = longLine ? 'URI_TOO_LONG' : 'HEADERS_TOO_LARGE';
    message = longLine ? 'the URL is too long' : 'the request headers are too large';
  }
  const status = code === 'TIMEOUT' ? 408 : httpStatusOf(new GatewayError(code, message));
  const body = JSON.stringify({ code, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

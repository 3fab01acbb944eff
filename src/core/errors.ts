/** Stable error codes: API clients and tests match on these, never on messages. */
export type ErrorCode =
  | 'PARSE_ERROR'
  | 'CONFIG_INVALID'
  | 'STREAM_BUSY'
  | 'STREAM_NOT_FOUND'
  | 'PROXY_NOT_FOUND'
  | 'DEVICE_NOT_FOUND'
  | 'DEVICE_OFFLINE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNAVAILABLE'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'SOURCE_START_FAILED'
  | 'SOURCE_START_TIMEOUT'
  | 'SUBSCRIBER_LAGGING'
  | 'SESSION_NOT_FOUND'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'UNSUPPORTED_CODEC'
  | 'CLOSED'
  | 'TIMEOUT'
  | 'PROTOCOL_ERROR'
  | 'INTERNAL';

export class GatewayError extends Error {
  override readonly name: string = 'GatewayError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown by every parser on bad input. The only exception a parser may throw. */
export class ParseError extends GatewayError {
  override readonly name = 'ParseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('PARSE_ERROR', message, options);
  }
}

/** Throws a ParseError unless `condition` holds: for lengths and fields read from the wire. */
export function parseAssert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ParseError(message);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The HTTP status an API or media route answers for an error code. */
export function httpStatusOf(err: unknown): number {
  if (!(err instanceof GatewayError)) return 500;
  switch (err.code) {
    case 'BAD_REQUEST':
    case 'PARSE_ERROR':
    case 'CONFIG_INVALID':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'STREAM_NOT_FOUND':
    case 'PROXY_NOT_FOUND':
    case 'DEVICE_NOT_FOUND':
    case 'SESSION_NOT_FOUND':
    case 'NOT_FOUND':
      return 404;
    case 'STREAM_BUSY':
    case 'DEVICE_OFFLINE':
      return 409;
    case 'URI_TOO_LONG':
      return 414;
    case 'UNSUPPORTED_CODEC':
      return 415;
    case 'HEADERS_TOO_LARGE':
      return 431;
    case 'SOURCE_START_FAILED':
      return 502;
    case 'SOURCE_START_TIMEOUT':
    case 'TIMEOUT':
      return 504;
    case 'CLOSED':
    case 'UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}

/** The `{code, message}` body every API error has. */
export function errorBody(err: unknown): { code: string; message: string } {
  if (err instanceof GatewayError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: errorMessage(err) };
}

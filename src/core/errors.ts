/** Stable error codes: API clients and tests match on these, never on messages. */
export type ErrorCode =
  | 'PARSE_ERROR'
  | 'CONFIG_INVALID'
  | 'STREAM_BUSY'
  | 'STREAM_NOT_FOUND'
  | 'SOURCE_START_FAILED'
  | 'SOURCE_START_TIMEOUT'
  | 'SUBSCRIBER_LAGGING'
  | 'SESSION_NOT_FOUND'
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

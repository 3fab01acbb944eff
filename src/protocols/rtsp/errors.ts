import { GatewayError, type ErrorCode } from '../../core/errors';

/**
 * Why an RTSP pull failed, in the words an operator acts on. The proxy status shows the
 * message; viewers waiting for an on-demand start get it inside SOURCE_START_FAILED.
 */
export type RtspFailure =
  /** 401/403 after trying the credentials, or credentials missing. */
  | 'auth'
  /** TCP connect refused, timed out, host unknown; or the connection dropped. */
  | 'unreachable'
  /** 404 on DESCRIBE (wrong path) or 454 (session gone). */
  | 'not-found'
  /** Nothing in the SDP the hub can carry (H.264, H.265, AAC, G.711). */
  | 'unsupported-codec'
  /** The server stopped answering requests, or no media arrived. */
  | 'timeout'
  /** The server answered something we could not use (garbage, error status, bad SDP). */
  | 'protocol'
  /** The transport was refused (461) or never carried packets (UDP blocked). */
  | 'transport';

const PREFIX: Record<RtspFailure, string> = {
  auth: 'auth failed',
  unreachable: 'unreachable',
  'not-found': 'not found',
  'unsupported-codec': 'unsupported codec',
  timeout: 'timed out',
  protocol: 'protocol error',
  transport: 'transport failed',
};

const CODE: Record<RtspFailure, ErrorCode> = {
  auth: 'PROTOCOL_ERROR',
  unreachable: 'PROTOCOL_ERROR',
  'not-found': 'STREAM_NOT_FOUND',
  'unsupported-codec': 'UNSUPPORTED_CODEC',
  timeout: 'TIMEOUT',
  protocol: 'PROTOCOL_ERROR',
  transport: 'PROTOCOL_ERROR',
};

export class RtspError extends GatewayError {
  override readonly name = 'RtspError';
  constructor(
    readonly failure: RtspFailure,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(CODE[failure], `${PREFIX[failure]}: ${detail}`, options);
  }
}

/** Maps a socket error to an RtspError that says what happened. */
export function socketFailure(err: unknown, target: string): RtspError {
  const code = (err as { code?: unknown }).code;
  const text = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return new RtspError('unreachable', `${target} refused the connection`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RtspError('unreachable', `host of ${target} not found`, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return new RtspError('unreachable', `${target} cannot be reached (${String(code)})`, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return new RtspError('unreachable', `${target} dropped the connection`, { cause: err });
    default:
      return new RtspError('unreachable', `${target}: ${text}`, { cause: err });
  }
}

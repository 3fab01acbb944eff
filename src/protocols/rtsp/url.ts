import { maskSecrets } from '../../core/redact';
import { GatewayError } from '../../core/errors';

/** Spec: RFC 2326 §3.2: rtsp URLs default to port 554. */
export const DEFAULT_RTSP_PORT = 554;
const MAX_URL_LENGTH = 2048;

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface RtspUrl {
  /** The URL without credentials: what goes on the request line and in logs. */
  readonly href: string;
  readonly host: string;
  readonly port: number;
  /** From `user:pass@` in the URL, percent-decoded. */
  readonly credentials?: Credentials;
}

/**
 * Parses an `rtsp://[user[:pass]@]host[:port]/path` URL. Cameras often put an unescaped `@`
 * in the password; the last `@` of the authority is taken as the separator.
 */
export function parseRtspUrl(input: string): RtspUrl {
  if (input.length > MAX_URL_LENGTH) throw new GatewayError('BAD_REQUEST', `RTSP URL longer than ${MAX_URL_LENGTH} characters`);
  if (/[\s\u0000-\u001f\u007f]/.test(input)) throw new GatewayError('BAD_REQUEST', 'RTSP URL contains spaces or control characters');
  const match = /^rtsp:\/\/([^/?#]*)([^#]*)/i.exec(input);
  if (!match) throw new GatewayError('BAD_REQUEST', `not an rtsp:// URL: ${redactUrl(input)}`);
  const authority = match[1]!;
  const rest = match[2] ?? '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  const hp = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(?::(\d{1,5}))?$/.exec(hostPort);
  if (!hp) throw new GatewayError('BAD_REQUEST', `RTSP URL has a bad host "${hostPort.slice(0, 100)}"`);
  const port = hp[2] === undefined ? DEFAULT_RTSP_PORT : Number(hp[2]);
  if (port < 1 || port > 65535) throw new GatewayError('BAD_REQUEST', `RTSP URL port ${port} is out of range`);
  const host = hp[1]!.startsWith('[') ? hp[1]!.slice(1, -1) : hp[1]!;
  const href = `rtsp://${hostPort}${rest || '/'}`;
  if (userinfo === undefined) return { href, host, port };
  const colon = userinfo.indexOf(':');
  const username = safeDecode(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = colon >= 0 ? safeDecode(userinfo.slice(colon + 1)) : '';
  return { href, host, port, credentials: { username, password } };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The URL with any password (userinfo or credential query values) replaced by `***`, for logs and the API. */
export function redactUrl(input: string): string {
  return maskSecrets(input);
}

/**
 * The URL a media's `a=control` names. Absolute controls are used as they are; relative ones
 * are appended to the base with one `/` between (path-absolute ones replace the base's path), which is what cameras expect (and what
 * ffmpeg and gortsplib do) even though RFC 3986 resolution would replace the last segment.
 * Spec: RFC 2326 §C.1.1 (the base is Content-Base, else Content-Location, else the request URL).
 */
export function resolveControl(base: string, control: string | undefined): string {
  if (control === undefined || control === '' || control === '*') return base;
  if (/^rtsps?:\/\//i.test(control)) return control;
  if (control.startsWith('/')) {
    const origin = /^rtsps?:\/\/[^/?#]*/i.exec(base)?.[0];
    return origin ? origin + control : control;
  }
  return base.endsWith('/') ? base + control : `${base}/${control}`;
}

/**
 * A request URL with a track control that a client appended after the query
 * (`rtsp://h/live/cam?key=k/streamid=0`, what ffmpeg sends when the URL it was given had a
 * query) put back before it: `rtsp://h/live/cam/streamid=0?key=k`.
 */
export function controlBeforeQuery(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0) return uri;
  const slash = uri.lastIndexOf('/');
  if (slash < q) return uri;
  return uri.slice(0, q) + uri.slice(slash) + uri.slice(q, slash);
}

/**
 * RTMP target and source URLs: `rtmp://HOST[:PORT]/APP/STREAM[?QUERY]` and `rtmps://` (TLS).
 * The first path segment is the app (connect's `app`, tcUrl ends with it); the rest, query
 * included, is the stream name given to publish or play (a CDN's stream key). Like librtmp
 * and ffmpeg, a path of one segment has no stream name and is refused.
 */
import { GatewayError } from '../../core/errors';

export const DEFAULT_RTMP_PORT = 1935;
export const DEFAULT_RTMPS_PORT = 443;

export interface RtmpUrl {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly app: string;
  /** Stream name with its query: what publish/play send. */
  readonly stream: string;
  /** `rtmp[s]://host[:port]/app`: connect's tcUrl. */
  readonly tcUrl: string;
}

export function parseRtmpUrl(input: string): RtmpUrl {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new GatewayError('BAD_REQUEST', 'not a URL: expected rtmp://host[:port]/app/stream');
  }
  const secure = url.protocol === 'rtmps:';
  if (!secure && url.protocol !== 'rtmp:') throw new GatewayError('BAD_REQUEST', `unsupported scheme ${url.protocol} (rtmp: or rtmps:)`);
  if (!url.hostname) throw new GatewayError('BAD_REQUEST', 'the RTMP URL has no host');
  const segments = url.pathname.split('/').filter((s) => s !== '');
  if (segments.length < 2) throw new GatewayError('BAD_REQUEST', 'the RTMP URL needs an app and a stream name: rtmp://host/app/stream');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : secure ? DEFAULT_RTMPS_PORT : DEFAULT_RTMP_PORT;
  const app = decodeURIComponent(segments[0]!);
  const stream = segments.slice(1).map(decodeURIComponent).join('/') + url.search;
  const tcUrl = `${url.protocol}//${url.host}/${segments[0]}`;
  return { secure, host, port, app, stream, tcUrl };
}

/**
 * The URL with its secret parts masked, for status, logs and the API: the password, the
 * stream key (everything after the app) beyond its first 2 characters, and query values.
 */
export function maskRtmpUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return '(invalid URL)';
  }
  if (url.password) url.password = '***';
  const segments = url.pathname.split('/');
  // segments[0] is '' (leading slash), [1] the app: mask the stream name segments after it.
  const masked = segments.map((s, i) => (i < 2 || s === '' ? s : maskKey(s)));
  url.pathname = masked.join('/');
  for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, '***');
  return url.toString().replace(/%2A/g, '*');
}

function maskKey(segment: string): string {
  return segment.length <= 4 ? '***' : `${segment.slice(0, 2)}***`;
}

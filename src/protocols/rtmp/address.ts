/**
 * RTMP addresses: `rtmp://HOST:PORT/{app}/{stream}`. The app comes from connect's `app`
 * (or `tcUrl`), the stream from publish/play; either may carry a `?query` (tokens), which is
 * kept for authentication and left out of the hub path `${app}/${stream}`.
 */

/** Allowed characters of an app or stream name: they become hub paths and file names. */
const NAME_RE = /^[A-Za-z0-9_\-.~]{1,128}$/;

export interface NameWithQuery {
  readonly name: string;
  /** The raw query without `?` ('' when absent). */
  readonly query: string;
}

export function splitQuery(raw: string): NameWithQuery {
  const q = raw.indexOf('?');
  if (q < 0) return { name: raw, query: '' };
  return { name: raw.slice(0, q), query: raw.slice(q + 1) };
}

/** A name that is safe as a path segment (no slash, no dot-only names, bounded length). */
export function isValidName(name: string): boolean {
  return NAME_RE.test(name) && !/^\.+$/.test(name);
}

/**
 * The app of a connect command: the `app` field (query and trailing slashes dropped), or
 * the first path segment of tcUrl when app is missing.
 */
export function appFromConnect(app: unknown, tcUrl: unknown): NameWithQuery {
  if (typeof app === 'string' && app !== '') return splitQuery(app.replace(/\/+$/, ''));
  if (typeof tcUrl === 'string') {
    const m = /^rtmps?:\/\/[^/]+\/([^/?]*)(\?.*)?/i.exec(tcUrl);
    if (m) return { name: m[1] ?? '', query: (m[2] ?? '').slice(1) };
  }
  return { name: '', query: '' };
}

export interface StreamAddress {
  readonly app: string;
  readonly stream: string;
  /** `${app}/${stream}` */
  readonly path: string;
  /** Queries of the app and the stream name, joined with '&' ('' if none). */
  readonly query: string;
}

/**
 * The hub address of a publish or play: undefined if the app or stream name is not valid.
 * `rawStream` is the first argument of publish/play, e.g. `cam1?token=abc`.
 */
export function streamAddress(app: NameWithQuery, rawStream: string): StreamAddress | undefined {
  const stream = splitQuery(rawStream);
  if (!isValidName(app.name) || !isValidName(stream.name)) return undefined;
  const query = [app.query, stream.query].filter((q) => q !== '').join('&');
  return { app: app.name, stream: stream.name, path: `${app.name}/${stream.name}`, query };
}

import { ParseError, parseAssert } from '../../core/errors';
import type { HlsSegment } from './segmenter';

/** HLS playlists: rendering the live ones we serve, and a bounded parser. Spec: RFC 8216 §4. */

export const HLS_VERSION = 3;
/** Caps of the parser. */
export const MAX_PLAYLIST_BYTES = 1024 * 1024;
export const MAX_PLAYLIST_LINE = 8192;
export const MAX_PLAYLIST_ENTRIES = 10_000;

export interface MediaPlaylistOptions {
  readonly targetDuration: number;
  /** Built per request: the segment URI for a sequence number (relative, with the session). */
  readonly uri: (segment: HlsSegment) => string;
}

/** A live media playlist (no EXT-X-ENDLIST) of version 3. */
export function renderMediaPlaylist(window: readonly HlsSegment[], options: MediaPlaylistOptions): string {
  const first = window[0];
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${HLS_VERSION}`, `#EXT-X-TARGETDURATION:${options.targetDuration}`, `#EXT-X-MEDIA-SEQUENCE:${first?.sequence ?? 0}`];
  if (first) {
    const discontinuitySequence = first.discontinuitySequence - (first.discontinuity ? 1 : 0);
    if (discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`);
  }
  for (const segment of window) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.programDateTime !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
    lines.push(`#EXTINF:${segment.duration.toFixed(3)},`, options.uri(segment));
  }
  return `${lines.join('\n')}\n`;
}

export interface Variant {
  readonly uri: string;
  /** Peak bits per second. */
  readonly bandwidth: number;
  readonly codecs?: readonly string[];
  readonly resolution?: { readonly width: number; readonly height: number };
}

/** A master playlist with one variant (the session's media playlist). */
export function renderMasterPlaylist(variant: Variant): string {
  const attributes = [`BANDWIDTH=${Math.max(1, Math.round(variant.bandwidth))}`];
  if (variant.resolution && variant.resolution.width > 0) attributes.push(`RESOLUTION=${variant.resolution.width}x${variant.resolution.height}`);
  if (variant.codecs?.length) attributes.push(`CODECS="${variant.codecs.join(',')}"`);
  return `#EXTM3U\n#EXT-X-VERSION:${HLS_VERSION}\n#EXT-X-STREAM-INF:${attributes.join(',')}\n${variant.uri}\n`;
}

export interface ParsedSegment {
  readonly uri: string;
  readonly duration: number;
  readonly discontinuity: boolean;
  readonly programDateTime?: number;
}

export interface ParsedPlaylist {
  readonly version?: number;
  readonly targetDuration?: number;
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
  readonly endList: boolean;
  readonly segments: readonly ParsedSegment[];
  readonly variants: readonly { readonly uri: string; readonly attributes: Readonly<Record<string, string>> }[];
}

interface ParseState {
  version?: number;
  targetDuration?: number;
  mediaSequence: number;
  discontinuitySequence: number;
  endList: boolean;
  /** Tags that apply to the next segment. */
  discontinuity: boolean;
  programDateTime?: number;
  /** Set by #EXTINF / #EXT-X-STREAM-INF, consumed by the URI line that follows. */
  pending?: { duration: number; discontinuity: boolean; programDateTime?: number };
  variant?: Record<string, string>;
}

/**
 * Parses a media or master playlist. Unknown tags are skipped; a missing #EXTM3U, a malformed
 * known tag, a URI without its EXTINF/EXT-X-STREAM-INF, or input beyond the caps is a ParseError.
 */
export function parsePlaylist(text: string): ParsedPlaylist {
  parseAssert(text.length <= MAX_PLAYLIST_BYTES, `playlist longer than ${MAX_PLAYLIST_BYTES} characters`);
  const lines = text.split(/\r?\n/);
  parseAssert(lines[0]?.trim() === '#EXTM3U', 'playlist does not start with #EXTM3U');
  const state: ParseState = { mediaSequence: 0, discontinuitySequence: 0, endList: false, discontinuity: false };
  const segments: ParsedSegment[] = [];
  const variants: { uri: string; attributes: Record<string, string> }[] = [];
  for (const raw of lines.slice(1)) {
    parseAssert(raw.length <= MAX_PLAYLIST_LINE, `playlist line longer than ${MAX_PLAYLIST_LINE} characters`);
    const line = raw.trim();
    if (line === '') continue;
    parseAssert(segments.length + variants.length < MAX_PLAYLIST_ENTRIES, `playlist with more than ${MAX_PLAYLIST_ENTRIES} entries`);
    if (line.startsWith('#')) {
      const colon = line.indexOf(':');
      applyTag(state, colon < 0 ? line : line.slice(0, colon), colon < 0 ? '' : line.slice(colon + 1));
      continue;
    }
    if (state.variant) variants.push({ uri: line, attributes: state.variant });
    else if (state.pending) segments.push({ uri: line, ...state.pending });
    else throw new ParseError(`URI "${line.slice(0, 40)}" without #EXTINF or #EXT-X-STREAM-INF`);
    state.pending = undefined;
    state.variant = undefined;
  }
  const { version, targetDuration, mediaSequence, discontinuitySequence, endList } = state;
  return { version, targetDuration, mediaSequence, discontinuitySequence, endList, segments, variants };
}

function applyTag(state: ParseState, tag: string, value: string): void {
  switch (tag) {
    case '#EXT-X-VERSION':
      state.version = integer(value, tag);
      break;
    case '#EXT-X-TARGETDURATION':
      state.targetDuration = integer(value, tag);
      break;
    case '#EXT-X-MEDIA-SEQUENCE':
      state.mediaSequence = integer(value, tag);
      break;
    case '#EXT-X-DISCONTINUITY-SEQUENCE':
      state.discontinuitySequence = integer(value, tag);
      break;
    case '#EXT-X-DISCONTINUITY':
      state.discontinuity = true;
      break;
    case '#EXT-X-ENDLIST':
      state.endList = true;
      break;
    case '#EXT-X-PROGRAM-DATE-TIME': {
      const ms = Date.parse(value);
      parseAssert(Number.isFinite(ms), `${tag} "${value.slice(0, 40)}" is not a date`);
      state.programDateTime = ms;
      break;
    }
    case '#EXTINF': {
      const duration = Number(value.split(',')[0]);
      parseAssert(value.length > 0 && Number.isFinite(duration) && duration >= 0, `#EXTINF duration "${value.slice(0, 40)}"`);
      state.pending = { duration, discontinuity: state.discontinuity, ...(state.programDateTime !== undefined ? { programDateTime: state.programDateTime } : {}) };
      state.discontinuity = false;
      state.programDateTime = undefined;
      break;
    }
    case '#EXT-X-STREAM-INF':
      state.variant = attributeList(value);
      parseAssert(state.variant.BANDWIDTH !== undefined && /^\d+$/.test(state.variant.BANDWIDTH), '#EXT-X-STREAM-INF without a BANDWIDTH');
      break;
    default:
      break; // other tags and comments
  }
}

function integer(value: string, tag: string): number {
  parseAssert(/^\d{1,15}$/.test(value), `${tag} "${value.slice(0, 40)}" is not a decimal integer`);
  return Number(value);
}

/** An attribute list: NAME=value pairs, values plain or in double quotes. Spec: RFC 8216 §4.2. */
export function attributeList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    parseAssert(eq > i, `attribute list: no NAME= at ${i}`);
    const name = text.slice(i, eq);
    parseAssert(/^[A-Z0-9-]+$/.test(name), `attribute name "${name.slice(0, 20)}"`);
    let value: string;
    if (text[eq + 1] === '"') {
      const close = text.indexOf('"', eq + 2);
      parseAssert(close > 0, `attribute ${name}: unterminated quoted string`);
      value = text.slice(eq + 2, close);
      i = close + 1;
    } else {
      const comma = text.indexOf(',', eq + 1);
      value = text.slice(eq + 1, comma < 0 ? text.length : comma);
      i = comma < 0 ? text.length : comma;
    }
    out[name] = value;
    if (i < text.length) {
      parseAssert(text[i] === ',', `attribute list: "," expected after ${name}`);
      i++;
    }
  }
  return out;
}

/**
 * Which folder may import which (DESIGN.md "The house"), each rule with its reason. Paths are
 * relative to the project root; a rule applies to files under `from` (the most specific wins).
 */
export interface ImportRule {
  from: string;
  /** Project folders this one may import (its own folder is always allowed). */
  mayImport: string[];
  /** Node built-ins or packages it may not import (checked by prefix). */
  forbiddenModules?: string[];
  /** Only `import type` from these. */
  typeOnly?: string[];
  why: string;
}

const SOCKETS_AND_IO = ['node:dgram', 'node:net', 'node:fs', 'node:http', 'node:https', 'node:tls', 'dgram', 'net', 'fs', 'http', 'https', 'tls', 'node:timers'];

export const importRules: ImportRule[] = [
  {
    from: 'src/core',
    mayImport: [],
    forbiddenModules: ['fastify', 'pino', 'better-sqlite3', 'ws', 'sip', 'yaml'],
    why: 'core holds the shared types: it must not depend on anything else of ours or on a framework',
  },
  { from: 'src/codecs', mayImport: ['src/core'], forbiddenModules: SOCKETS_AND_IO, why: 'codecs are pure bitstream code, reusable by every protocol and format' },
  {
    from: 'src/formats',
    mayImport: ['src/core', 'src/codecs'],
    forbiddenModules: SOCKETS_AND_IO,
    why: 'muxers and demuxers are pure: protocols and the recorder use them, never the reverse',
  },
  {
    from: 'rtp',
    mayImport: ['src/core', 'src/codecs', 'src/formats'],
    forbiddenModules: SOCKETS_AND_IO,
    why: 'the RTP/PS parsing is pure so it can be fuzzed and shared with the RTSP client; it uses the one MPEG-2 systems implementation (TS demuxer, PES headers, stream types) of src/formats/mpegts, which is pure too, instead of a copy of its own',
  },
  {
    from: 'rtp/net',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'rtp'],
    forbiddenModules: ['node:http', 'node:https', 'fastify'],
    why: 'receivers only add sockets to the pure rtp/ code',
  },
  {
    from: 'sip',
    mayImport: ['src/core', 'src/formats/sdp'],
    why: 'signalling knows nothing of media muxing; the app bridges it to the hub. SDP is a format SIP and RTSP both carry: one parser in src/formats/sdp (pure), not one per protocol',
  },
  { from: 'src/hub', mayImport: ['src/core'], forbiddenModules: SOCKETS_AND_IO, why: 'the hub moves frames between sources and sinks and must not know any protocol' },
  { from: 'src/protocols/shared', mayImport: ['src/core'], why: 'small socket helpers every protocol may use; they know no protocol themselves' },
  {
    from: 'src/protocols/rtmp',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'src/protocols/shared'],
    why: 'a protocol uses the hub and pure code, never another protocol',
  },
  {
    from: 'src/protocols/http-flv',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'src/protocols/shared'],
    why: 'a protocol uses the hub and pure code, never another protocol',
  },
  {
    from: 'src/protocols/ws-flv',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'src/protocols/shared'],
    why: 'a protocol uses the hub and pure code, never another protocol',
  },
  {
    from: 'src/protocols/ws-audio',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'src/protocols/shared'],
    why: 'a protocol uses the hub and pure code, never another protocol',
  },
  {
    from: 'src/protocols/http-ts',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'src/protocols/shared'],
    why: 'a protocol uses the hub and pure code, never another protocol',
  },
  {
    from: 'src/protocols/hls',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'src/protocols/shared'],
    why: 'a protocol uses the hub and pure code, never another protocol',
  },
  {
    from: 'src/protocols/rtsp',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'rtp', 'src/protocols/shared'],
    why: 'the RTSP client shares the pure rtp/ depacketizers; never another protocol',
  },
  {
    from: 'src/protocols/playback',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'rtp', 'src/protocols/shared'],
    why: 'playback turns recorded TS back into frames with the elementary-stream and frame assemblers of rtp/ (pure), as TS-over-RTP ingest does; never another protocol',
  },
  {
    from: 'src/protocols/relay',
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', 'src/protocols/shared'],
    why: 'a protocol uses the hub and pure code, never another protocol',
  },
  { from: 'storage', mayImport: ['src/core', 'src/formats', 'storage'], why: 'storage persists data and writes recordings; it must not reach into protocols or the hub' },
  {
    from: 'src/api',
    mayImport: ['src/core', 'src/config'],
    typeOnly: ['src/hub', 'src/formats', 'storage', 'sip', 'rtp'],
    why: 'the API sees the rest only through types and interfaces the app injects',
  },
  { from: 'src/config', mayImport: ['src/core'], why: 'config is read by the app and handed down as plain values' },
  { from: 'src/app', mayImport: ['src', 'sip', 'rtp', 'storage'], why: 'the app is the one composition root' },
];

export function ruleFor(file: string): ImportRule | undefined {
  return importRules.filter((r) => file === r.from || file.startsWith(`${r.from}/`)).sort((a, b) => b.from.length - a.from.length)[0];
}

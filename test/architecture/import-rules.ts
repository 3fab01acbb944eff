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

/** A protocol folder: the hub and pure code (with `pureRtp`, the pure rtp/ code too), never another protocol. */
function protocolRule(name: string, options: { pureRtp?: boolean; why?: string } = {}): ImportRule {
  const pure = options.pureRtp ? ['rtp'] : [];
  return {
    from: `src/protocols/${name}`,
    mayImport: ['src/core', 'src/codecs', 'src/formats', 'src/hub', ...pure, 'src/protocols/shared'],
    why: options.why ?? 'a protocol uses the hub and pure code, never another protocol',
  };
}

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
  protocolRule('rtmp'),
  protocolRule('http-flv'),
  protocolRule('ws-flv'),
  protocolRule('ws-audio'),
  protocolRule('http-ts'),
  protocolRule('hls'),
  protocolRule('rtsp', { pureRtp: true, why: 'the RTSP client shares the pure rtp/ depacketizers; never another protocol' }),
  protocolRule('playback', {
    pureRtp: true,
    why: 'playback turns recorded TS back into frames with the elementary-stream and frame assemblers of rtp/ (pure), as TS-over-RTP ingest does; never another protocol',
  }),
  protocolRule('relay'),
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

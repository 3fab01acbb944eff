/**
 * Every setting the gateway reads: its type and bounds. Defaults and one-line docs live in
 * conf/default.yaml (a test keeps the two in step). Durations are in seconds unless named *Ms.
 */
type Field =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'string'; pattern?: RegExp; hint?: string }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] };

export interface SchemaNode {
  [key: string]: Field | SchemaNode;
}

const int = (min: number, max: number) => ({ kind: 'int', min, max }) as const;
const num = (min: number, max: number) => ({ kind: 'number', min, max }) as const;
const str = (pattern?: RegExp, hint?: string) => ({ kind: 'string', pattern, hint }) as const;
const bool = () => ({ kind: 'boolean' }) as const;
const oneOf = <const V extends readonly string[]>(values: V) => ({ kind: 'enum', values }) as const;
const port = () => int(0, 65535);
const host = () => str(/^[A-Za-z0-9.:_-]+$/, 'an IP address or host name');

export const schema = {
  log: {
    level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    pretty: oneOf(['auto', 'yes', 'no']),
  },
  storage: {
    dir: str(/^.+$/, 'a directory path'),
  },
  rtmp: {
    enabled: bool(),
    host: host(),
    port: port(),
    chunkSize: int(128, 65536),
    hevcMode: oneOf(['enhanced', 'legacy']),
    idleTimeout: num(1, 3600),
  },
  http: {
    enabled: bool(),
    host: host(),
    port: port(),
    cors: bool(),
    flvHevcMode: oneOf(['enhanced', 'legacy']),
  },
  hub: {
    closeAfter: num(0, 3600),
    reconnectGrace: num(0, 3600),
    waitForPublisher: num(0, 600),
    startTimeout: num(1, 600),
    trackWait: num(0, 60),
    gopCache: {
      maxGops: int(1, 10),
      maxFrames: int(1, 100_000),
      maxBytes: int(1024, 1024 * 1024 * 1024),
    },
    viewer: {
      maxPendingBytes: int(64 * 1024, 1024 * 1024 * 1024),
      maxLag: num(0.1, 600),
    },
  },
  hls: {
    segmentSeconds: num(0.5, 60),
    windowSegments: int(2, 100),
    closeAfter: num(1, 3600),
    playlistWait: num(1, 120),
    alwaysRemux: bool(),
  },
  sip: {
    enabled: bool(),
    host: host(),
    port: port(),
    id: str(/^\d{20}$/, 'a 20-digit GB28181 id'),
    domain: str(/^\d{10}$/, 'a 10-digit SIP domain'),
    password: str(/^[\x21-\x7e]{0,64}$/, 'up to 64 printable ASCII characters, or empty'),
    mediaIp: str(/^(?:|\d{1,3}(?:\.\d{1,3}){3})$/, 'an IPv4 address, or empty'),
    advertisedIp: str(/^(?:|\d{1,3}(?:\.\d{1,3}){3})$/, 'an IPv4 address, or empty'),
    nonceTtl: num(10, 86_400),
    authFailLimit: int(1, 100),
    banTime: num(0, 86_400),
    heartbeatInterval: num(1, 3600),
    heartbeatCount: int(1, 100),
    maxExpires: int(60, 7 * 86_400),
    queryTimeout: num(1, 120),
    catalogIdle: num(0.5, 120),
    catalogRefresh: num(0, 7 * 86_400),
    catalogSubscribe: int(0, 86_400),
    inviteTimeout: num(1, 120),
    mediaTimeout: num(1, 600),
    streamMode: oneOf(['udp', 'tcp-passive', 'tcp-active']),
    charset: oneOf(['GB2312', 'GBK', 'GB18030', 'UTF-8']),
    sipLogSize: int(0, 10_000),
  },
  shutdown: {
    timeout: num(0.1, 60),
  },
} as const satisfies SchemaNode;

type ValueOf<F> = F extends { kind: 'int' | 'number' }
  ? number
  : F extends { kind: 'boolean' }
    ? boolean
    : F extends { kind: 'enum'; values: readonly (infer V)[] }
      ? V
      : F extends { kind: 'string' }
        ? string
        : F extends SchemaNode
          ? { readonly [K in keyof F]: ValueOf<F[K]> }
          : never;

export type GatewayConfig = ValueOf<typeof schema>;

export function isField(node: Field | SchemaNode): node is Field {
  return typeof (node as { kind?: unknown }).kind === 'string';
}

/** Every dotted key of the schema (`hub.gopCache.maxGops`), with its field. */
export function schemaKeys(node: SchemaNode = schema, prefix = ''): [string, Field][] {
  const out: [string, Field][] = [];
  for (const [key, child] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isField(child)) out.push([path, child]);
    else out.push(...schemaKeys(child, path));
  }
  return out;
}

export type { Field };

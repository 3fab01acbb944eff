/**
 * Every setting the gateway reads: its type and bounds. Defaults and one-line docs live in
 * conf/default.yaml (a test keeps the two in step). Durations are in seconds unless named *Ms.
 */
import { STREAM_MODES } from '../core/gb28181';

type ScalarField =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'string'; pattern?: RegExp; hint?: string }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] };

/** One key of a list item: required, or with the value it takes when left out. */
interface ItemField {
  readonly field: ScalarField;
  readonly default?: string | number | boolean;
}

/** A list of flat records (`proxies:`); it cannot be set from a GW_ variable except as JSON. */
type ListField = { kind: 'list'; item: { readonly [key: string]: ItemField } };

type Field = ScalarField | ListField;

export interface SchemaNode {
  [key: string]: Field | SchemaNode;
}

const int = (min: number, max: number) => ({ kind: 'int', min, max }) as const;
const num = (min: number, max: number) => ({ kind: 'number', min, max }) as const;
const str = (pattern?: RegExp, hint?: string) => ({ kind: 'string', pattern, hint }) as const;
const bool = () => ({ kind: 'boolean' }) as const;
const oneOf = <const V extends readonly string[]>(values: V) => ({ kind: 'enum', values }) as const;
const list = <const I extends { readonly [key: string]: ItemField }>(item: I) => ({ kind: 'list', item }) as const;
const required = <const F extends ScalarField>(field: F) => ({ field }) as const;
const optional = <const F extends ScalarField, const D extends string | number | boolean>(field: F, fallback: D) => ({ field, default: fallback }) as const;
const port = () => int(0, 65535);
const hookUrl = () => str(/^(?:|https?:\/\/[^\s]{1,2040})$/i, 'an http:// or https:// URL, or empty (hook off)');
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
    playNoDelay: bool(),
    partialBudget: int(8 * 1024 * 1024, 16 * 1024 * 1024 * 1024),
  },
  http: {
    enabled: bool(),
    host: host(),
    port: port(),
    cors: {
      origins: str(/^[\x21-\x7e ]{0,2000}$/, 'origins separated by spaces or commas (https://console.example.com), or empty'),
    },
    flvHevcMode: oneOf(['enhanced', 'legacy']),
    flvNoDelay: bool(),
    maxConnections: int(0, 1_000_000),
    headersTimeout: num(1, 600),
    requestTimeout: num(1, 3600),
    tsBurstSeconds: num(0, 10),
  },
  auth: {
    secret: str(/^(?:|[\x21-\x7e]{16,256})$/, '16-256 printable ASCII characters, or empty (generated)'),
    publishKey: str(/^(?:|[A-Za-z0-9_.~-]{8,128})$/, '8-128 characters of A-Z a-z 0-9 _ . ~ -, or empty (generated)'),
    play: oneOf(['token', 'open', 'hook']),
    tokenTtl: int(10, 366 * 86_400),
    sessionTtl: int(60, 30 * 86_400),
    loginLimit: int(1, 1000),
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
    maxSessionsPerStream: int(1, 10_000),
    maxSessionsPerClient: int(1, 10_000),
  },
  sip: {
    enabled: bool(),
    host: host(),
    port: port(),
    id: str(/^\d{20}$/, 'a 20-digit GB28181 id'),
    domain: str(/^\d{10}$/, 'a 10-digit SIP domain'),
    password: str(/^[\x21-\x7e]{0,64}$/, 'up to 64 printable ASCII characters, or empty (generated)'),
    autoRegister: bool(),
    mediaIp: str(/^(?:|\d{1,3}(?:\.\d{1,3}){3})$/, 'an IPv4 address, or empty'),
    advertisedIp: str(/^(?:|\d{1,3}(?:\.\d{1,3}){3})$/, 'an IPv4 address, or empty'),
    nonceTtl: num(10, 86_400),
    authFailLimit: int(1, 100),
    sourceFailLimit: int(1, 10_000),
    banTime: num(0, 86_400),
    heartbeatInterval: num(1, 3600),
    heartbeatCount: int(1, 100),
    maxExpires: int(60, 7 * 86_400),
    queryTimeout: num(1, 120),
    catalogIdle: num(0.5, 120),
    catalogRefresh: num(0, 7 * 86_400),
    catalogSubscribe: int(0, 86_400),
    alarmSubscribe: int(0, 86_400),
    inviteTimeout: num(1, 120),
    mediaTimeout: num(1, 600),
    streamMode: oneOf(STREAM_MODES),
    charset: oneOf(['GB2312', 'GBK', 'GB18030', 'UTF-8']),
    sipLogSize: int(0, 10_000),
    recordInfoTimeout: num(1, 600),
    playbackPauseTimeout: num(1, 86_400),
    alarmRecordPre: num(0, 300),
    alarmRecordPost: num(0, 3600),
    sipLogBytes: int(0, 1024 * 1024 * 1024),
    tcpMaxBody: int(65_536, 1024 * 1024),
    tcpPartialBudget: int(1024 * 1024, 4 * 1024 * 1024 * 1024),
  },
  rtp: {
    host: host(),
    portMin: int(0, 65534),
    portMax: int(0, 65535),
    timeout: num(1, 3600),
    ssrcCheck: bool(),
    apiShare: num(0, 1),
    dumpMaxBytes: int(1024 * 1024, 64 * 1024 * 1024 * 1024),
  },
  rtsp: {
    enabled: bool(),
    host: host(),
    port: port(),
    connectTimeout: num(0.5, 120),
    requestTimeout: num(1, 120),
    udpFallback: num(0.5, 60),
    stallTimeout: num(1, 600),
    reorderDelay: num(0, 5),
    reconnectMin: num(0.1, 600),
    reconnectMax: num(0.1, 3600),
    userAgent: str(/^[\x20-\x7e]{1,128}$/, 'printable ASCII, 1-128 characters'),
    maxProxies: int(1, 100_000),
    sessionTimeout: num(1, 3600),
  },
  proxies: list({
    path: required(str(/^[A-Za-z0-9_.-]{1,64}\/[A-Za-z0-9_.-]{1,64}$/, 'app/stream ([A-Za-z0-9_.-])')),
    url: required(str(/^(?:rtsp|rtmps?|https?):\/\/[^\s]{1,2040}$/i, 'an rtsp://, rtmp://, rtmps:// or http(s)://...flv URL')),
    transport: optional(oneOf(['auto', 'tcp', 'udp']), 'auto'),
    onDemand: optional(bool(), true),
  }),
  relay: {
    connectTimeout: num(0.5, 120),
    stallTimeout: num(1, 600),
    reconnectMin: num(0.1, 600),
    reconnectMax: num(0.1, 3600),
    maxPendingBytes: int(64 * 1024, 256 * 1024 * 1024),
    chunkSize: int(128, 65536),
    tlsCaFile: str(/^.{0,1024}$/, 'a path to a PEM file, or empty'),
  },
  tls: {
    cert: str(/^.{0,1024}$/, 'a path to a PEM file, or empty'),
    key: str(/^.{0,1024}$/, 'a path to a PEM file, or empty'),
    ca: str(/^.{0,1024}$/, 'a path to a PEM file, or empty'),
    watchDelay: num(0, 3600),
    handshakeTimeout: num(1, 120),
    https: { enabled: bool(), port: port() },
    rtmps: { enabled: bool(), port: port() },
    rtsps: { enabled: bool(), port: port() },
  },
  pushes: list({
    path: required(str(/^[A-Za-z0-9_.*-]{1,64}\/[A-Za-z0-9_.*-]{1,64}$/, 'app/stream, * matches any name characters')),
    url: required(str(/^rtmps?:\/\/[^\s]{1,2040}$/i, 'an rtmp:// or rtmps:// URL ({app} and {stream} are filled in)')),
    keepSource: optional(bool(), false),
    hevc: optional(oneOf(['enhanced', 'legacy', 'drop']), 'enhanced'),
    allowSelfSigned: optional(bool(), false),
  }),
  record: {
    dir: str(/^[^\0]*$/, 'a directory path, or empty for {storage.dir}/record'),
    segmentSeconds: num(1, 86_400),
    flushSeconds: num(0.1, 60),
    timezone: str(/^[A-Za-z0-9_+/-]{0,64}$/, 'an IANA time zone such as Asia/Shanghai, or empty for the system zone'),
    deleteAfterDays: num(0, 36_500),
    minFreeBytes: int(0, Number.MAX_SAFE_INTEGER),
    maxBytes: int(0, Number.MAX_SAFE_INTEGER),
    retry: num(0.5, 3600),
    maxPendingBytes: int(64 * 1024, 1024 * 1024 * 1024),
    preRollMaxBytes: int(64 * 1024, 1024 * 1024 * 1024),
    plans: list({
      id: required(str(/^[A-Za-z0-9_.-]{1,64}$/, '1-64 characters of [A-Za-z0-9_.-]')),
      streams: required(str(/^[A-Za-z0-9_.*/, -]{1,4000}$/, 'comma-separated paths (live/cam1), patterns (live/*) or GB28181 ids')),
      formats: optional(str(/^[a-z, ]{1,20}$/, 'comma-separated flv, ts, hls'), 'flv'),
      when: optional(oneOf(['always', 'weekly', 'cron']), 'always'),
      weekly: optional(str(/^[A-Za-z0-9:,; -]{0,1000}$/, 'e.g. mon-fri 08:00-18:00; sat 10:00-12:00'), ''),
      cron: optional(str(/^[^\n]{0,1000}$/, 'cron expressions separated by ;'), ''),
      duration: optional(num(0, 7 * 86_400), 0),
      segmentSeconds: optional(num(0, 86_400), 0),
      deleteAfterDays: optional(num(0, 36_500), 0),
      preRoll: optional(num(0, 300), 0),
      enabled: optional(bool(), true),
    }),
  },
  shutdown: {
    timeout: num(0.1, 60),
  },
  v8: {
    heapGrowingPercent: int(0, 1000),
  },
  cluster: {
    workers: str(/^(?:auto|[1-9][0-9]{0,2})$/, 'auto or a count of worker processes (1..999)'),
  },
  hooks: {
    timeout: num(0.1, 60),
    secret: str(/^[\x20-\x7e]{0,256}$/, 'up to 256 printable ASCII characters, or empty'),
    failOpen: bool(),
    retries: int(0, 10),
    queueSize: int(1, 100_000),
    serverId: str(/^[\x21-\x7e]{0,64}$/, 'up to 64 printable ASCII characters, or empty'),
    keepaliveInterval: num(1, 86_400),
    noneReaderDelay: num(0, 3600),
    on_publish: hookUrl(),
    on_play: hookUrl(),
    on_stream_changed: hookUrl(),
    on_stream_none_reader: hookUrl(),
    on_stream_not_found: hookUrl(),
    on_record_segment: hookUrl(),
    on_device_online: hookUrl(),
    on_device_offline: hookUrl(),
    on_alarm: hookUrl(),
    on_server_started: hookUrl(),
    on_server_keepalive: hookUrl(),
  },
  metrics: {
    enabled: bool(),
    perStream: bool(),
    auth: oneOf(['secret', 'open'] as const),
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
        : F extends { kind: 'list'; item: infer I extends { readonly [key: string]: ItemField } }
          ? readonly { readonly [K in keyof I]: ValueOf<I[K]['field']> }[]
          : F extends SchemaNode
            ? { readonly [K in keyof F]: ValueOf<F[K]> }
            : never;

export type GatewayConfig = ValueOf<typeof schema>;

/** Rules across keys: the key named is the one reported when the rule fails. */
export const crossChecks: { key: string; fault: string; ok: (config: GatewayConfig) => boolean }[] = [
  { key: 'rtp.portMax', fault: 'must not be below rtp.portMin', ok: (c) => c.rtp.portMin === 0 || c.rtp.portMax >= c.rtp.portMin + 1 },
  // Without the webhook, `hook` would let everyone watch: refuse the start instead.
  { key: 'auth.play', fault: 'hook needs hooks.on_play (the webhook that decides who may watch)', ok: (c) => c.auth.play !== 'hook' || c.hooks.on_play !== '' },
  // A TLS listener serves its plain server's sessions: it cannot run without its certificate or that server.
  { key: 'tls.cert', fault: 'must name the PEM certificate file when a TLS listener (tls.https/rtmps/rtsps) is enabled', ok: (c) => !tlsListening(c) || c.tls.cert !== '' },
  { key: 'tls.key', fault: 'must name the PEM private key file when a TLS listener (tls.https/rtmps/rtsps) is enabled', ok: (c) => !tlsListening(c) || c.tls.key !== '' },
  {
    key: 'tls.https.enabled',
    fault: 'needs http.enabled (HTTPS serves the same routes; set http.host to 127.0.0.1 to keep plain HTTP off the network)',
    ok: (c) => !c.tls.https.enabled || c.http.enabled,
  },
  {
    key: 'tls.rtmps.enabled',
    fault: 'needs rtmp.enabled (RTMPS runs the same sessions; set rtmp.host to 127.0.0.1 to keep plain RTMP off the network)',
    ok: (c) => !c.tls.rtmps.enabled || c.rtmp.enabled,
  },
  {
    key: 'tls.rtsps.enabled',
    fault: 'needs rtsp.enabled (RTSPS runs the same sessions; set rtsp.host to 127.0.0.1 to keep plain RTSP off the network)',
    ok: (c) => !c.tls.rtsps.enabled || c.rtsp.enabled,
  },
];

function tlsListening(c: GatewayConfig): boolean {
  return c.tls.https.enabled || c.tls.rtmps.enabled || c.tls.rtsps.enabled;
}

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

export type { Field, ScalarField, ListField, ItemField };

/**
 * One pull-proxy mechanism, one client per protocol: the proxy (proxy.ts) drives whichever
 * client the URL's scheme names, through the narrow PullClient shape.
 * rtsp:// -> RtspPull, rtmp:// and rtmps:// -> RtmpPull, http(s)://....flv -> HttpFlvPull.
 */
import { GatewayError } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Publisher } from '../../core/source';
import { HttpFlvPull } from '../../protocols/http-flv/pull';
import { RtmpPull } from '../../protocols/rtmp/pull';
import { maskRtmpUrl, parseRtmpUrl } from '../../protocols/rtmp/url';
import { RtspPull, type RtspTransportChoice } from '../../protocols/rtsp/pull';
import type { UdpPortAllocator } from '../../protocols/rtsp/udp';
import { parseRtspUrl, redactUrl } from '../../protocols/rtsp/url';
import type { TlsTrust } from '../../protocols/shared/tls';

export type PullProtocol = 'rtsp' | 'rtmp' | 'http-flv';

export interface PullClient {
  start(): Promise<void>;
  close(reason: string): Promise<void>;
  stats(): { bytes: number; transport?: 'tcp' | 'udp' };
  /** Codecs the source announced before any frame (RTSP's SDP), for the status. */
  announcedCodecs(): string[];
}

export interface PullClientSettings {
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly udpFallbackMs: number;
  readonly stallTimeoutMs: number;
  readonly reorderDelayMs: number;
  readonly userAgent: string;
  /** What rtmps:// and https:// pulls trust (tls.ca, relay.tlsCaFile). */
  readonly tls?: TlsTrust;
}

export interface PullClientSpec {
  readonly url: string;
  readonly transport: RtspTransportChoice;
}

export interface PullClientDeps {
  readonly log: Logger;
  readonly udpPorts?: UdpPortAllocator;
  /** Publishes into the hub at the proxy's path; `remote` is the source URL without secrets. */
  readonly openPublisher: (remote: string) => Publisher;
  /** The pull died after start() resolved; the error has a `failure` kind and plain words. */
  readonly onClose: (err: Error & { failure?: string }) => void;
}

/** Which client a URL needs; throws BAD_REQUEST for anything else. */
export function pullProtocolOf(url: string): PullProtocol {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'rtsp') return 'rtsp';
  if (scheme === 'rtmp' || scheme === 'rtmps') return 'rtmp';
  if (scheme === 'http' || scheme === 'https') return 'http-flv';
  throw new GatewayError('BAD_REQUEST', 'url must be rtsp://, rtmp://, rtmps:// or http(s)://...flv');
}

/** Checks the URL for its protocol (BAD_REQUEST with the reason). */
export function validatePullUrl(url: string): void {
  const protocol = pullProtocolOf(url);
  if (protocol === 'rtsp') parseRtspUrl(url);
  else if (protocol === 'rtmp') parseRtmpUrl(url);
  else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new GatewayError('BAD_REQUEST', 'not a URL');
    }
    if (!parsed.pathname.toLowerCase().endsWith('.flv')) throw new GatewayError('BAD_REQUEST', 'an HTTP pull reads HTTP-FLV: the path must end in .flv');
  }
}

/** The URL as shown in status, logs and the API. */
export function maskPullUrl(url: string): string {
  return pullProtocolOf(url) === 'rtmp' ? maskRtmpUrl(url) : redactUrl(url);
}

export function createPullClient(spec: PullClientSpec, settings: PullClientSettings, deps: PullClientDeps): PullClient {
  const protocol = pullProtocolOf(spec.url);
  const remote = maskPullUrl(spec.url);
  if (protocol === 'rtsp') {
    let codecs: string[] = [];
    const pull = new RtspPull({
      url: spec.url,
      transport: spec.transport,
      ...settings,
      log: deps.log,
      ...(deps.udpPorts ? { udpPorts: deps.udpPorts } : {}),
      openPublisher: (info) => deps.openPublisher(redactUrl(info.url)),
      onClose: (err) => deps.onClose(err),
    });
    return {
      start: async () => {
        codecs = (await pull.start()).tracks.map((t) => t.codec);
      },
      close: (reason) => pull.close(reason),
      stats: () => pull.stats(),
      announcedCodecs: () => codecs,
    };
  }
  const common = {
    url: spec.url,
    log: deps.log,
    connectTimeoutMs: settings.connectTimeoutMs,
    stallTimeoutMs: settings.stallTimeoutMs,
    openPublisher: () => deps.openPublisher(remote),
    onClose: deps.onClose,
    ...(settings.tls ? { tls: settings.tls } : {}),
  };
  const pull = protocol === 'rtmp' ? new RtmpPull(common) : new HttpFlvPull(common);
  return {
    start: () => pull.start(),
    close: (reason) => pull.close(reason),
    stats: () => ({ ...pull.stats(), transport: 'tcp' }),
    announcedCodecs: () => [],
  };
}

/**
 * Admission (hub rule 11): who may publish or play a path. Every entry point asks before it
 * publishes or subscribes, with the caller's context; access rules, tokens and webhooks answer.
 */
export interface AdmissionRequest {
  readonly action: 'publish' | 'play';
  /** `app/stream` */
  readonly path: string;
  /** rtmp, http-flv, ws-flv, http-ts, ws-ts, hls, rtsp, gb28181, rtp, relay, record ... */
  readonly protocol: string;
  /** Peer `ip:port`. */
  readonly remote?: string;
  /** The URL query (key=, token=, sign= ...). */
  readonly query: Readonly<Record<string, string>>;
  /** The authenticated user, when the protocol knows one. */
  readonly user?: string;
  /** The gateway's own sources and readers (GB bridge, RTSP/RTMP pull, RTP receiver, recorder, push). */
  readonly internal?: boolean;
}

export type AdmissionStatus = 'unauthorized' | 'forbidden' | 'unavailable';

export type AdmissionResult = { readonly allow: true; readonly user?: string } | { readonly allow: false; readonly status: AdmissionStatus; readonly reason: string };

export type AdmissionCheck = (request: AdmissionRequest) => AdmissionResult | Promise<AdmissionResult>;

/** A query string (`a=1&b=2`, with or without `?`) as the record AdmissionRequest carries. */
export function queryRecord(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(raw.startsWith('?') ? raw.slice(1) : raw)) {
    if (!(key in out)) out[key] = value;
  }
  return out;
}

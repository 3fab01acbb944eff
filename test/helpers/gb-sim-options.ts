import type { RtpFixtureSender } from './gb-media-sender';
import type { parseSimpleSdp } from './gb-sip-text';
import type { SimChannel, SimRecord } from './gb-sim-manscdp';

/** 200 and stream, 200 without RTP, 200 without SDP (and stream to the offer), no answer, or a status code. */
export type InviteAnswer = 'ok' | 'no-rtp' | 'no-sdp' | 'ignore' | number;

/** A DeviceControl / DeviceConfig / PresetQuery the device got. */
export interface SimControl {
  cmdType: string;
  targetId: string;
  xml: string;
  ptzCmd?: string;
}

export interface SimulatorOptions {
  deviceId: string;
  serverPort: number;
  serverHost?: string;
  /** Bind here instead of 127.0.0.1 (127.0.0.2 is "another host" on loopback). */
  localHost?: string;
  serverId: string;
  domain: string;
  password: string;
  transport?: 'udp' | 'tcp';
  expires?: number;
  /** Announced in the ConfigDownload answer. */
  heartbeatInterval?: number;
  heartbeatCount?: number;
  channels?: SimChannel[];
  /** Items per Catalog answer message. */
  catalogChunk?: number;
  charset?: 'GB2312' | 'UTF-8';
  /** How the device answers an INVITE: 200 and stream, 200 without RTP, no answer, or a status code. */
  inviteAnswer?: InviteAnswer;
  /** Answer with this y= instead of the offered one. */
  ownSsrc?: string;
  /** Send RTP with this SSRC whatever the answer said (a camera whose SSRC setting is wrong). */
  mediaSsrc?: string;
  fixture?: string;
  /** Answer SUBSCRIBE with 200 (default) or refuse it. */
  acceptSubscribe?: boolean;
  /** Do not answer queries (a device that registers but ignores MESSAGE). */
  silent?: boolean;
  /** Recordings answered to RecordInfo, `recordChunk` items per message. */
  records?: SimRecord[];
  recordChunk?: number;
  presets?: { id: number; name: string }[];
  /** Result of RecordCmd, GuardCmd, AlarmCmd and DeviceConfig; 'none': never answer them. */
  controlResult?: 'OK' | 'ERROR' | 'none';
  /** Playback/Download media (sent once, then MediaStatus 121); default the live fixture. */
  playbackFixture?: string;
  /** Playback/Download: send exactly the t= range (the fixture looped to its length) instead of the fixture once. */
  serveRange?: boolean;
}

export interface SimDialog {
  callId: string;
  offer: ReturnType<typeof parseSimpleSdp>;
  ssrc: string;
  sender?: RtpFixtureSender;
  byeReceived: boolean;
  mediaStarted: boolean;
  /** s= of the INVITE: Play, Playback, Download. */
  session: string;
  /** INFO MANSRTSP bodies received in this dialog. */
  infos: string[];
  /** MediaStatus 121 was sent. */
  endSent: boolean;
  /** Our To tag in the 200 and the platform's From of the INVITE: the dialog's ids (RFC 3261 §12). */
  localTag: string;
  remoteFrom: string;
}

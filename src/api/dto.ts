/**
 * The shapes the REST API sends and accepts, declared once: the route handlers return them and
 * the browser pages (web/) `import type` them. Types only (nothing here runs); each area's own
 * DTOs that live beside their routes are re-exported at the end, so this is the one import.
 */
import type { GbChannel, GbDevice, StreamMode } from '../core/gb28181';

/** A page of a list: `GET /api/devices?page=&count=`. */
export interface Page<T> {
  total: number;
  page: number;
  count: number;
  items: T[];
}

/** The registration of a device now online (from its REGISTER and keepalives). */
export interface DeviceSessionDto {
  /** `ip:port` it sends from. */
  remote: string;
  transport: 'udp' | 'tcp';
  registeredAt: number;
  /** Registration lifetime, s. */
  expires: number;
  lastKeepaliveAt: number;
  heartbeatInterval: number;
  heartbeatCount: number;
  /** When it will be declared offline without another REGISTER or keepalive. */
  offlineAt: number;
}

/** A GB28181 device as the API shows it: never its password (only whether it has one). */
export interface DeviceDto extends Omit<GbDevice, 'password' | 'callId'> {
  hasPassword: boolean;
  session: DeviceSessionDto | null;
}

/** `POST /api/devices` (with `id`) and `PATCH /api/devices/:id`. An empty password clears it. */
export interface DeviceInput {
  name?: string;
  password?: string | null;
  noAuth?: boolean;
  streamMode?: StreamMode;
  charset?: string;
}

/** A catalog entry with the hub path it plays on. */
export interface ChannelDto extends GbChannel {
  /** `rtp/{deviceId}_{channelId}`. */
  stream: string;
}

/** `POST /api/devices/:id/catalog`: the whole (multi-message) answer was waited for. */
export interface CatalogRefreshDto {
  deviceId: string;
  /** SumNum the device announced (absent when no answer came). */
  sumNum?: number;
  received: number;
  messages: number;
  complete: boolean;
  channelCount: number;
}

export type { DownloadDto, DownloadStateDto } from './downloads';
export type { InviteDto } from './play';
export type { ProxyDto, ProxyInput, ProxyPatchInput } from './proxies';
export type { PushDto, PushInput, PushPatchInput, PushStatusDto } from './pushes';
export type { OpenRtpRequest, RtpServerInfo } from './rtp';
export type { StreamDto } from './streams';
export type { StreamMode } from '../core/gb28181';
export type { HealthDto } from './health';
export type { ActiveRecordingDto, PlanDto, PlanBody } from './recordings';
export type { SessionSnapshot as SessionDto } from '../hub/registry';

/** `GET /api/recordings/timeline?path&start&end` (src/protocols/playback/timeline.ts). */
export interface TimelineDto {
  path: string;
  start: string;
  end: string;
  /** Covered intervals, adjacent segments merged, ms since the epoch and ISO 8601. */
  intervals: { start: string; end: string; startMs: number; endMs: number }[];
  /** Audio codecs recorded in the window (`g711a`, `g711u`: the console offers its ♪ for these; `aac` plays in the video). */
  audioCodecs: string[];
}

/** `GET /api/recordings/days?path&month=YYYY-MM`: local dates (record.timezone) with recordings. */
export interface RecordingDaysDto {
  path: string;
  month: string;
  timeZone: string;
  /** `YYYY-MM-DD`. */
  days: string[];
}

/** `POST /api/auth/sign`: a play token for one path, to append to its media URLs. */
export interface SignedUrlDto {
  path: string;
  action: 'play' | 'publish';
  token: string;
  expiresAt: number;
  /** `token=...`. */
  query: string;
}
export type { ConsoleEvent, ConsoleEventType, StreamStatusDto } from './events';
export type { WallDto, WallInput, WallLayout } from './walls';

import type { DeviceCharset } from './charset';
import type { StreamMode } from '../../src/core/gb28181';

/** Settings of the GB28181 server (the `sip:` config section, durations converted to ms). */
export interface GbServerConfig {
  /** Our SIP id (20 digits). */
  id: string;
  /** SIP domain (10 digits): the digest realm and the SSRC prefix. */
  domain: string;
  /** Global password; empty: only provisioned devices may register. */
  password: string;
  /** Unknown device ids may register with the global password; false: only provisioned ones. */
  autoRegister: boolean;
  nonceTtlMs: number;
  /** Consecutive digest failures before a device id is banned. */
  authFailLimit: number;
  banMs: number;
  /** Wrong passwords one source IP may send per minute, across every device id, before it is banned for banMs. */
  sourceFailLimit: number;
  /** Assumed until the device's ConfigDownload answer says otherwise. */
  heartbeatInterval: number;
  heartbeatCount: number;
  /** Registration lifetimes are clamped to this range, s. */
  minExpires: number;
  maxExpires: number;
  queryTimeoutMs: number;
  /** A RecordInfo answer not complete by then is returned as partial. */
  recordInfoTimeoutMs: number;
  /** A multi-message Catalog answer with no new message for this long is complete. */
  catalogIdleMs: number;
  /** Re-query every online device's catalog this often; 0: never. */
  catalogRefreshMs: number;
  /** Expires of the Catalog SUBSCRIBE; 0: do not subscribe. */
  catalogSubscribeSec: number;
  /** Expires of the Alarm SUBSCRIBE; 0: do not subscribe (alarms then come only as the device sends them). */
  alarmSubscribeSec: number;
  inviteTimeoutMs: number;
  defaultStreamMode: StreamMode;
  defaultCharset: DeviceCharset;
  sipLogSize: number;
  /** Bytes the whole SIP log may hold (oldest devices' logs are dropped beyond). */
  sipLogBytes: number;
  /** Largest body of a SIP message over TCP; larger ones get 513. */
  tcpMaxBody: number;
  /** How often online devices are checked against their deadlines. */
  sweepMs: number;
}

export const DEFAULT_GB_CONFIG: Omit<GbServerConfig, 'id' | 'domain' | 'password'> = {
  autoRegister: true,
  nonceTtlMs: 300_000,
  authFailLimit: 3,
  banMs: 600_000,
  sourceFailLimit: 10,
  heartbeatInterval: 60,
  heartbeatCount: 3,
  minExpires: 60,
  maxExpires: 86_400,
  queryTimeoutMs: 10_000,
  recordInfoTimeoutMs: 15_000,
  catalogIdleMs: 10_000,
  catalogRefreshMs: 0,
  catalogSubscribeSec: 0,
  alarmSubscribeSec: 0,
  inviteTimeoutMs: 10_000,
  defaultStreamMode: 'tcp-passive',
  defaultCharset: 'GB2312',
  sipLogSize: 50,
  sipLogBytes: 32 * 1024 * 1024,
  tcpMaxBody: 1024 * 1024,
  sweepMs: 1000,
};

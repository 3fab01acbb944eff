import { networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import type { GatewayConfig } from '../../config/schema';
import type { Registry } from '../../hub/registry';
import type { Db } from '../../../storage/db';
import { ChannelRepo } from '../../../storage/repos/channels';
import { DeviceRepo } from '../../../storage/repos/devices';
import { DEFAULT_GB_CONFIG, type GbServerConfig } from '../../../sip/gb28181/config';
import { GbServer } from '../../../sip/gb28181/server';
import { devicesApi } from '../../api/devices';
import { channelsApi } from '../../api/channels';
import { playApi, type PlayApiDeps } from '../../api/play';
import { GbBridge, gbPath, playbackPath } from './bridge';
import { errorMessage } from '../../core/errors';
import { gbControlApi } from '../../api/gb-control';
import { AlarmRepo } from '../../../storage/repos/gb-alarms';
import { DialogRepo } from '../../../storage/repos/gb-dialogs';
import type { StoredDialog } from '../../../sip/gb28181/invite';
import { MAX_SPEED, MIN_SPEED } from '../../../sip/gb28181/mansrtsp';
import { PTZ_COMMANDS, presetCommand, ptzRequestCommand } from '../../../sip/gb28181/ptz';
import { RECORD_TYPES } from '../../../sip/gb28181/records';
import { deviceConfigBasicParam, type BasicParamSettings } from '../../../sip/gb28181/control';
import { createRtpMediaFactory } from './rtp-media';
import type { PortPool } from '../../../rtp/net/port-pool';
import type { ByteBudget } from '../../core/budget';
import { DownloadRepo } from '../../../storage/repos/gb-downloads';
import { GbDownloads, type GbDownloadsDeps } from './downloads';

/** Highest `a=downloadspeed` the API asks for (devices commonly take 1, 2, 4, 8 and 16). */
export const MAX_DOWNLOAD_SPEED = 16;

export interface Gb28181 {
  readonly server: GbServer;
  readonly bridge: GbBridge;
  readonly devices: DeviceRepo;
  readonly channels: ChannelRepo;
  readonly mediaIp: string;
  /** `urls`: every protocol's URL of a path for the client's host name (playable under auth.play). */
  registerApi(http: FastifyInstance, urls: PlayApiDeps['urls']): Promise<void>;
  /** Binds the SIP port (UDP and TCP); resolves with it. */
  start(): Promise<number>;
  stop(): Promise<void>;
}

/** The first non-loopback IPv4 address of this host (127.0.0.1 if there is none). */
export function pickMediaIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function gbServerConfigFrom(sip: GatewayConfig['sip']): GbServerConfig {
  return {
    ...DEFAULT_GB_CONFIG,
    id: sip.id,
    domain: sip.domain,
    password: sip.password,
    autoRegister: sip.autoRegister,
    nonceTtlMs: sip.nonceTtl * 1000,
    authFailLimit: sip.authFailLimit,
    banMs: sip.banTime * 1000,
    sourceFailLimit: sip.sourceFailLimit,
    heartbeatInterval: sip.heartbeatInterval,
    heartbeatCount: sip.heartbeatCount,
    maxExpires: sip.maxExpires,
    queryTimeoutMs: sip.queryTimeout * 1000,
    recordInfoTimeoutMs: sip.recordInfoTimeout * 1000,
    catalogIdleMs: sip.catalogIdle * 1000,
    catalogRefreshMs: sip.catalogRefresh * 1000,
    catalogSubscribeSec: sip.catalogSubscribe,
    alarmSubscribeSec: sip.alarmSubscribe,
    inviteTimeoutMs: sip.inviteTimeout * 1000,
    defaultStreamMode: sip.streamMode,
    defaultCharset: sip.charset,
    sipLogSize: sip.sipLogSize,
    sipLogBytes: sip.sipLogBytes,
    tcpMaxBody: sip.tcpMaxBody,
  };
}

/**
 * The GB28181 part of the gateway: SIP server, device and channel repos, the on-demand bridge
 * for `rtp/{deviceId}_{channelId}` and its API.
 */
/** `rtpPorts`: the gateway's one RTP port pool (undefined: OS-chosen ports). */
/** `tcpBudget`: shared by every SIP TCP connection for unfinished messages. */
export function createGb28181(config: GatewayConfig, registry: Registry, db: Db, log: pino.Logger, rtpPorts?: PortPool, tcpBudget?: ByteBudget): Gb28181 {
  const sip = config.sip;
  const gbLog = log.child({ component: 'gb28181' });
  let mediaIp = sip.mediaIp;
  if (!mediaIp) {
    mediaIp = pickMediaIp();
    gbLog.warn({ mediaIp }, 'sip.mediaIp is not set: using this address in INVITE SDP; set it to the address cameras can reach');
  }
  const advertisedHost = sip.advertisedIp || (sip.host !== '0.0.0.0' && sip.host !== '::' ? sip.host : mediaIp);
  const devices = new DeviceRepo(db);
  const channels = new ChannelRepo(db, devices);
  const alarms = new AlarmRepo(db);
  const dialogRepo = new DialogRepo(db);
  const dialogs = { save: (d: StoredDialog) => dialogRepo.save(d), remove: (id: string) => dialogRepo.remove(id), list: () => dialogRepo.list<StoredDialog>() };
  const server = new GbServer({
    host: sip.host,
    port: sip.port,
    advertisedHost,
    config: gbServerConfigFrom(sip),
    devices,
    channels,
    alarms,
    dialogs,
    log: gbLog,
    ...(tcpBudget ? { tcpBudget } : {}),
  });
  const bridge = new GbBridge({
    gb: server,
    registry,
    devices,
    channels,
    media: createRtpMediaFactory({ registry, log: log.child({ component: 'gb-media' }), pool: rtpPorts, host: config.rtp.host }),
    mediaIp,
    mediaTimeoutMs: sip.mediaTimeout * 1000,
    pauseTimeoutMs: sip.playbackPauseTimeout * 1000,
    startTimeoutMs: config.hub.startTimeout * 1000,
    log: gbLog,
  });
  return {
    server,
    bridge,
    devices,
    channels,
    mediaIp,
    async registerApi(http, urls) {
      await http.register(devicesApi, { devices, channels, gb: server, stopDevice: (id: string, reason: string) => bridge.stopDevice(id, reason) });
      await http.register(channelsApi, { channels });
      await http.register(gbControlApi, {
        commands: server.commands,
        configure: (id: string, settings: BasicParamSettings) => configureDevice(server, devices, id, settings),
        playback: bridge,
        playbackPath,
        ptz: { commands: PTZ_COMMANDS, encode: ptzRequestCommand, preset: presetCommand },
        recordTypes: RECORD_TYPES,
        alarms,
        speeds: { min: MIN_SPEED, max: MAX_SPEED },
      });
      await http.register(playApi, {
        bridge,
        tracks: (path: string) => registry.get(path)?.tracks ?? [],
        urls,
      });
    },
    async start() {
      const { port } = await server.listen();
      gbLog.info({ port, host: sip.host, id: sip.id, domain: sip.domain, mediaIp, advertisedHost }, 'GB28181 SIP server listening (UDP and TCP)');
      return port;
    },
    async stop() {
      bridge.close();
      await server.close();
      devices.flush();
    },
  };
}

/** DeviceConfig BasicParam; once the device says OK, the new heartbeat rules apply at once. */
async function configureDevice(server: GbServer, devices: DeviceRepo, id: string, settings: BasicParamSettings) {
  const result = await server.commands.control(id, id, deviceConfigBasicParam(settings));
  const session = server.session(id);
  if (session) {
    session.heartbeatInterval = settings.heartbeatInterval ?? session.heartbeatInterval;
    session.heartbeatCount = settings.heartbeatCount ?? session.heartbeatCount;
    devices.set(id, { heartbeatInterval: session.heartbeatInterval, heartbeatCount: session.heartbeatCount, ...(settings.name ? { name: settings.name } : {}) });
  }
  return result;
}

/**
 * Event recording of the alarming channel (sip.alarmRecordPost > 0): the recorder is a reader of
 * `rtp/{deviceId}_{channelId}`, so the live INVITE starts if nobody watched.
 */
export function attachAlarmRecording(gb: Gb28181, recording: { event(path: string, pre: number, post: number): unknown }, sip: GatewayConfig['sip'], log: pino.Logger): () => void {
  if (sip.alarmRecordPost <= 0) return () => undefined;
  return gb.server.events.on('alarm', (alarm) => {
    const path = gbPath(alarm.deviceId, alarm.channelId === alarm.deviceId ? (gb.channels.list({ deviceId: alarm.deviceId }).items[0]?.id ?? alarm.channelId) : alarm.channelId);
    try {
      recording.event(path, sip.alarmRecordPre, sip.alarmRecordPost);
      log.info({ path, alarm: alarm.id }, 'alarm: event recording started');
    } catch (err) {
      log.warn({ path, err: errorMessage(err) }, 'alarm: event recording could not start');
    }
  });
}

/**
 * Downloads (s=Download) into the recording index: the bridge INVITEs, the recording manager's
 * download recorder writes the clip on the device's clock. The recorder waits for the stream as
 * long as an INVITE and its first RTP may take.
 */
export function createGbDownloads(gb: Gb28181, recording: GbDownloadsDeps['recording'], db: Db, sip: GatewayConfig['sip'], log: pino.Logger): GbDownloads {
  return new GbDownloads({
    bridge: gb.bridge,
    recording,
    repo: new DownloadRepo(db),
    waitMs: (sip.inviteTimeout + sip.mediaTimeout) * 1000 + 5000,
    maxSpeed: MAX_DOWNLOAD_SPEED,
    log: log.child({ component: 'gb-download' }),
  });
}

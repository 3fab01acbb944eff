import type { Registry } from '../hub/registry';
import { describeTrack, isVideoTrack } from '../core/track';
import type { StreamStatusDto } from '../api/events';
import type { ProxyDto } from '../api/proxies';
import type { InviteDto } from '../api/play';
import type { GbDevice } from '../core/gb28181';
import { parseGbPath } from './gb-bridge/bridge';

/** What the status of a path is read from: the hub, and whatever could serve the path. */
export interface StreamStatusSources {
  registry: Pick<Registry, 'get'>;
  gb?: {
    invites(): InviteDto[];
    device(id: string): Pick<GbDevice, 'online' | 'offlineReason'> | undefined;
    mediaIp: string;
  };
  proxies?: { list(): ProxyDto[] };
  receivers?: { list(): { path: string; packets: number; port?: number }[] };
}

type State = StreamStatusDto['state'];

/** Sorts the words a GB28181 pull ended with into a reason a person understands. */
export function gbEndState(reason: string, media: InviteDto['media']): State {
  if ((media?.ssrcMismatches ?? 0) > 0 && (media?.packets ?? 0) === 0) return 'ssrc-mismatch';
  if (/ answered [3-6]\d\d\b/.test(reason)) return 'invite-refused';
  if (/did not answer/.test(reason)) return 'invite-timeout';
  if (/no RTP|sent no RTP|got no RTP|could not connect to device/.test(reason)) return 'no-rtp';
  if (/offline/.test(reason)) return 'device-offline';
  return 'source-error';
}

/**
 * The parameters the console words an ended pull with, read from the words sip/gb28181/invite.ts
 * and play-session.ts end it with: the SIP answer (`answered 486 Busy Here to ...`, kept as the
 * device's own detail), the seconds waited.
 */
export function gbEndParams(reason: string): { params: Record<string, string | number>; detail?: string } {
  const params: Record<string, string | number> = {};
  const answer = / answered (\d{3})\b ?(.*?) to /.exec(reason) ?? / \((408)\b ?([^)]*)\)/.exec(reason);
  if (answer) params.sipStatus = Number(answer[1]);
  const seconds = / within (\d+) s\b/.exec(reason);
  if (seconds) params.seconds = Number(seconds[1]);
  const detail = answer ? `${answer[1]} ${answer[2] ?? ''}`.trim() : undefined;
  return detail ? { params, detail } : { params };
}

/**
 * Why a path plays or not (`GET /api/streams/:app/:stream/status`): the hub says whether frames
 * flow; when they do not, the GB28181 bridge (device state, INVITE answer, RTP at the media
 * port, SSRC), the pull proxy (RTSP auth and other failures) or the RTP receiver says why.
 */
export function streamStatus(sources: StreamStatusSources, path: string): StreamStatusDto {
  const stream = sources.registry.get(path);
  if (stream?.ready) {
    const video = stream.tracks.find(isVideoTrack);
    return { path, state: 'live', message: 'live', codecs: stream.tracks.map(describeTrack), ...(video ? { videoCodec: video.codec } : {}) };
  }
  const gb = sources.gb ? gbStatus(sources.gb, path) : undefined;
  if (gb) return gb;
  const proxy = sources.proxies?.list().find((p) => p.path === path);
  if (proxy) return proxyStatus(proxy);
  const receiver = sources.receivers?.list().find((r) => r.path === path);
  if (receiver) {
    return receiver.packets === 0
      ? {
          path,
          state: 'no-rtp',
          message: `no RTP has arrived at port ${receiver.port ?? '?'} yet`,
          ...(receiver.port ? { mediaAddress: `port ${receiver.port}`, params: { address: `port ${receiver.port}` } } : {}),
        }
      : { path, state: 'starting', message: 'RTP arrives; waiting for a decodable picture' };
  }
  if (stream) return { path, state: 'starting', message: 'a publisher is connected; waiting for its tracks' };
  return { path, state: 'missing', message: `nothing publishes ${path}` };
}

function gbStatus(gb: NonNullable<StreamStatusSources['gb']>, path: string): StreamStatusDto | undefined {
  const ids = parseGbPath(path);
  if (!ids) return undefined;
  // The running pull first, else the last one that ended (invites() lists live ones first).
  const invite = gb.invites().find((i) => i.path === path);
  const mediaAddress = invite?.localPort ? `${gb.mediaIp}:${invite.localPort}/${invite.mode}` : undefined;
  const withAddress = mediaAddress ? { mediaAddress } : {};
  if (invite && invite.state !== 'ended' && !invite.endReason) {
    if (invite.state === 'waiting-media' && (invite.media?.ssrcMismatches ?? 0) > 0 && (invite.media?.packets ?? 0) === 0) {
      const params = { deviceId: ids.deviceId, ssrc: invite.ssrc, ...(mediaAddress ? { address: mediaAddress } : {}) };
      return { path, state: 'ssrc-mismatch', message: `RTP arrives at ${mediaAddress} with another SSRC than ${invite.ssrc}`, params, ...withAddress };
    }
    const what = invite.state === 'inviting' ? 'INVITE sent, waiting for the answer' : `INVITE answered, waiting for RTP at ${mediaAddress}`;
    return { path, state: 'starting', message: what, ...withAddress };
  }
  const device = gb.device(ids.deviceId);
  const deviceId = ids.deviceId;
  if (!device) return { path, state: 'device-unknown', message: `device ${deviceId} is not known`, params: { deviceId } };
  if (!device.online) {
    const why = device.offlineReason ? { detail: device.offlineReason } : {};
    return { path, state: 'device-offline', message: `device ${deviceId} is offline${device.offlineReason ? ` (${device.offlineReason})` : ''}`, params: { deviceId }, ...why };
  }
  if (invite?.endReason) {
    const state = gbEndState(invite.endReason, invite.media);
    const { params, detail } = gbEndParams(invite.endReason);
    const extra = { ...(mediaAddress ? { address: mediaAddress } : {}), ...(state === 'ssrc-mismatch' ? { ssrc: invite.ssrc } : {}) };
    // A reason the console words whole needs no English beside it; only an unsorted one does.
    const said = detail ?? (state === 'source-error' ? invite.endReason : undefined);
    return { path, state, message: invite.endReason, params: { deviceId, ...params, ...extra }, ...(said ? { detail: said } : {}), ...withAddress };
  }
  return { path, state: 'starting', message: 'the device is online: the first viewer starts the INVITE' };
}

function proxyStatus(proxy: ProxyDto): StreamStatusDto {
  const { path } = proxy;
  const error = proxy.status.lastError;
  if (proxy.status.state === 'playing') return { path, state: 'starting', message: 'the proxy plays; waiting for a decodable picture' };
  if (error?.kind === 'auth') return { path, state: 'rtsp-auth', message: error.message, detail: error.message };
  if (error) return { path, state: 'source-error', message: error.message, detail: error.message };
  return { path, state: 'starting', message: proxy.onDemand ? 'the proxy starts when played' : `the proxy is ${proxy.status.state}` };
}

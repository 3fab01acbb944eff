import type { GbChannel, GbDevice, GbDevicePatch } from '../core/gb28181';
import type { DeviceSession } from '../../sip/gb28181/sessions';
import type { ChannelDto, DeviceDto, DeviceInput } from './dto';

/** The device as the API shows it: never its password. */
export function deviceDto(record: GbDevice, session: DeviceSession | undefined): DeviceDto {
  const { password, callId: _callId, ...rest } = record;
  void _callId;
  return {
    ...rest,
    hasPassword: !!password,
    session: session
      ? {
          remote: `${session.remote.address}:${session.remote.port}`,
          transport: session.remote.protocol,
          registeredAt: session.registeredAt,
          expires: session.expires,
          lastKeepaliveAt: session.lastKeepaliveAt,
          heartbeatInterval: session.heartbeatInterval,
          heartbeatCount: session.heartbeatCount,
          offlineAt: Math.min(session.registeredAt + session.expires * 1000, session.lastKeepaliveAt + session.heartbeatInterval * session.heartbeatCount * 1000),
        }
      : null,
  };
}

export function channelDto(record: GbChannel): ChannelDto {
  return { ...record, stream: `rtp/${record.deviceId}_${record.id}` };
}

/** What a POST or PATCH body changes (an empty password clears the device's own). */
export function devicePatchOf(body: DeviceInput): GbDevicePatch {
  return {
    name: body.name,
    password: body.password === undefined ? undefined : body.password === '' ? null : body.password,
    noAuth: body.noAuth,
    streamMode: body.streamMode,
    charset: body.charset,
  };
}

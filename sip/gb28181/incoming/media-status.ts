import { textOf } from '../manscdp';
import type { ManscdpHandler } from './context';

/** NotifyType 121: the device finished sending a playback or download. Spec: GB/T 28181-2016 §9.8.4. */
const NOTIFY_MEDIA_END = '121';

/** Notify/MediaStatus: the end of a playback or download ends its dialog's media. */
export const mediaStatus: ManscdpHandler = ({ message, incoming, deviceId }, ctx) => {
  const type = textOf(message.body.NotifyType);
  if (type === NOTIFY_MEDIA_END) ctx.mediaEnded(deviceId, incoming.request.headers['call-id']);
  else ctx.log.debug({ device: deviceId, notifyType: type }, 'MediaStatus notification ignored');
};

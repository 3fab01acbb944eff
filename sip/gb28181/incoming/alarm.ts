import { alarmOf } from '../alarms';
import type { ManscdpHandler } from './context';

/** Notify/Alarm: stored, answered with a Response (Result OK), emitted for the console and hooks. */
export const alarmNotify: ManscdpHandler = ({ deviceId, message, now }, ctx) => {
  ctx.alarm(alarmOf(deviceId, message, now));
};

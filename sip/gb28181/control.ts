import { childOf, listOf, textOf, type ManscdpMessage } from './manscdp';
import type { XmlFields } from './commands';

/**
 * Device control (`<Control><CmdType>DeviceControl</CmdType>`) and configuration
 * (`DeviceConfig`). Front-end (PTZ) commands are not confirmed by devices beyond the 200 of the
 * MESSAGE; the others answer with a `<Response>` carrying `<Result>OK|ERROR</Result>`.
 * Spec: GB/T 28181-2016 §9.3, §A.2.3.1 (DeviceControl), §A.2.3.2 (DeviceConfig), §A.2.6.1
 */
export type DeviceControlCommand =
  | { kind: 'ptz'; ptzCmd: string }
  | { kind: 'teleboot' }
  | { kind: 'record'; start: boolean }
  | { kind: 'guard'; arm: boolean }
  | { kind: 'alarmReset'; method?: string; type?: string }
  | { kind: 'iframe' };

export interface ControlRequest {
  cmdType: 'DeviceControl' | 'DeviceConfig';
  fields: XmlFields;
  /** The device answers with a Response (else the 200 of the MESSAGE is all we get). */
  confirmed: boolean;
  /** What the command is called in messages. */
  name: string;
}

/** The body fields of a DeviceControl command. */
export function deviceControl(command: DeviceControlCommand): ControlRequest {
  switch (command.kind) {
    case 'ptz':
      return { cmdType: 'DeviceControl', fields: { PTZCmd: command.ptzCmd, Info: { ControlPriority: 5 } }, confirmed: false, name: 'PTZCmd' };
    case 'teleboot':
      // The device reboots instead of answering.
      return { cmdType: 'DeviceControl', fields: { TeleBoot: 'Boot' }, confirmed: false, name: 'TeleBoot' };
    case 'record':
      return { cmdType: 'DeviceControl', fields: { RecordCmd: command.start ? 'Record' : 'StopRecord' }, confirmed: true, name: 'RecordCmd' };
    case 'guard':
      return { cmdType: 'DeviceControl', fields: { GuardCmd: command.arm ? 'SetGuard' : 'ResetGuard' }, confirmed: true, name: 'GuardCmd' };
    case 'alarmReset': {
      const info: XmlFields = {};
      if (command.method) info.AlarmMethod = command.method;
      if (command.type) info.AlarmType = command.type;
      return { cmdType: 'DeviceControl', fields: { AlarmCmd: 'ResetAlarm', ...(Object.keys(info).length ? { Info: info } : {}) }, confirmed: true, name: 'AlarmCmd' };
    }
    case 'iframe':
      return { cmdType: 'DeviceControl', fields: { IFameCmd: 'Send' }, confirmed: false, name: 'IFameCmd' };
  }
}

export interface BasicParamSettings {
  name?: string;
  expiration?: number;
  heartbeatInterval?: number;
  heartbeatCount?: number;
}

/** DeviceConfig BasicParam (only the fields given are sent). */
export function deviceConfigBasicParam(settings: BasicParamSettings): ControlRequest {
  const param: XmlFields = {};
  if (settings.name !== undefined) param.Name = settings.name;
  if (settings.expiration !== undefined) param.Expiration = settings.expiration;
  if (settings.heartbeatInterval !== undefined) param.HeartBeatInterval = settings.heartbeatInterval;
  if (settings.heartbeatCount !== undefined) param.HeartBeatCount = settings.heartbeatCount;
  return { cmdType: 'DeviceConfig', fields: { BasicParam: param }, confirmed: true, name: 'DeviceConfig BasicParam' };
}

/** `<Result>` of a control answer: true for OK. */
export function resultOf(message: ManscdpMessage): { ok: boolean; result: string } {
  const result = textOf(message.body.Result)?.trim() ?? '';
  return { ok: /^OK$/i.test(result), result: result.slice(0, 64) || 'no Result' };
}

export interface Preset {
  id: number;
  name?: string;
}

/** The presets of a PresetQuery answer. Spec: GB/T 28181-2016 §A.2.6.10 (2022: §A.2.6.11) */
export function presetsOf(message: ManscdpMessage): Preset[] {
  const out: Preset[] = [];
  for (const item of listOf(childOf(message.body.PresetList, 'Item'))) {
    const id = Number(textOf(item.PresetID)?.trim());
    if (!Number.isInteger(id) || id < 1 || id > 255) continue;
    const name = textOf(item.PresetName)?.trim();
    out.push({ id, ...(name ? { name: name.slice(0, 128) } : {}) });
  }
  return out;
}

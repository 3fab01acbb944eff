import { GatewayError, errorMessage } from '../../src/core/errors';
import { deviceControl, presetsOf, resultOf, type ControlRequest, type DeviceControlCommand, type Preset } from './control';
import type { DeviceQueries } from './queries';
import { recordInfoFields, type RecordInfoResult, type RecordType } from './records';

export interface ControlResult {
  command: string;
  /** `OK` / `ERROR` as the device answered, or `sent` for commands devices do not confirm. */
  result: string;
  message: string;
}

/**
 * What an operator asks of a device beyond live video: control commands with their answers,
 * RecordInfo, PresetQuery. Errors say in plain words what the device did (refused, never
 * answered) and are GatewayErrors (TIMEOUT -> 504, SOURCE_START_FAILED -> 502).
 * Spec: GB/T 28181-2016 §9.3, §9.5, §9.7
 */
export class DeviceCommands {
  constructor(
    private readonly queries: DeviceQueries,
    private readonly requireOnline: (deviceId: string) => void,
  ) {}

  /** Sends a DeviceControl / DeviceConfig to `targetId` (the device or one of its channels). */
  async control(deviceId: string, targetId: string, request: ControlRequest): Promise<ControlResult> {
    this.requireOnline(deviceId);
    const to = targetId === deviceId ? `device ${deviceId}` : `channel ${targetId} of device ${deviceId}`;
    if (!request.confirmed) {
      await this.queries.command(deviceId, request.cmdType, request.fields, { root: 'Control', targetId });
      return { command: request.name, result: 'sent', message: `${request.name} delivered to ${to} (devices do not confirm it beyond the 200 of the MESSAGE)` };
    }
    let answer;
    try {
      answer = await this.queries.query(deviceId, request.cmdType, request.fields, { root: 'Control', targetId });
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'TIMEOUT') throw new GatewayError('TIMEOUT', `${to} did not confirm ${request.name}: ${errorMessage(err)}`);
      throw err;
    }
    const { ok, result } = resultOf(answer);
    if (!ok) throw new GatewayError('SOURCE_START_FAILED', `${to} refused ${request.name} (Result ${result})`);
    return { command: request.name, result, message: `${to} carried out ${request.name}` };
  }

  device(deviceId: string, targetId: string, command: DeviceControlCommand): Promise<ControlResult> {
    return this.control(deviceId, targetId, deviceControl(command));
  }

  async recordInfo(deviceId: string, channelId: string, startMs: number, endMs: number, type: RecordType): Promise<RecordInfoResult> {
    this.requireOnline(deviceId);
    if (!(endMs > startMs)) throw new GatewayError('BAD_REQUEST', 'end must be after start');
    return this.queries.recordInfo(deviceId, channelId, recordInfoFields(startMs, endMs, type));
  }

  async presets(deviceId: string, channelId: string): Promise<Preset[]> {
    this.requireOnline(deviceId);
    return presetsOf(await this.queries.query(deviceId, 'PresetQuery', {}, { targetId: channelId }));
  }
}

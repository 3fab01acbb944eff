import { GatewayError } from '../../src/core/errors';

/**
 * The 8-byte front-end command of a DeviceControl PTZCmd, as hex:
 * `A5 | 0F | 01 | cmd | d1 | d2 | (d3 << 4 | address high) | checksum`, checksum = sum of bytes
 * 1..7 mod 256. Byte 2 is version 0 with the low nibble of (A + 5 + 0); byte 3 the address.
 * Spec: GB/T 28181-2016 §A.3 (Tables A.2-A.8)
 */
export const PTZ_DIRECTIONS = ['up', 'down', 'left', 'right', 'upleft', 'upright', 'downleft', 'downright'] as const;
export const PTZ_COMMANDS = [...PTZ_DIRECTIONS, 'zoomin', 'zoomout', 'focusnear', 'focusfar', 'irisopen', 'irisclose', 'stop'] as const;
export type PtzCommand = (typeof PTZ_COMMANDS)[number];

/** Speeds 0-255 for pan, tilt, focus and iris; 0-15 for zoom. */
export interface PtzSpeeds {
  pan?: number;
  tilt?: number;
  zoom?: number;
}

/** Bits of byte 4 for pan/tilt/zoom (Table A.3). */
const BITS = { right: 0x01, left: 0x02, down: 0x04, up: 0x08, zoomin: 0x10, zoomout: 0x20 } as const;
/** Focus/iris (Table A.4): 0x40 plus far 0x01, near 0x02, iris open 0x04, iris close 0x08. */
const FI = { focusfar: 0x41, focusnear: 0x42, irisopen: 0x44, irisclose: 0x48 } as const;

function byteOf(value: number | undefined, max: number, what: string): number {
  const v = value ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new GatewayError('BAD_REQUEST', `${what} must be an integer 0-${max}, got ${String(value)}`);
  return v;
}

/** The 8 bytes as upper-case hex, with the checksum. */
export function frontEndCommand(cmd: number, d1: number, d2: number, d3: number): string {
  const bytes = [0xa5, 0x0f, 0x01, cmd & 0xff, d1 & 0xff, d2 & 0xff, (d3 & 0x0f) << 4];
  const checksum = bytes.reduce((sum, b) => sum + b, 0) % 256;
  return Buffer.from([...bytes, checksum])
    .toString('hex')
    .toUpperCase();
}

/** Pan/tilt/zoom, focus, iris or stop, each with its speed. */
export function ptzCommand(command: PtzCommand, speeds: PtzSpeeds = {}): string {
  if (command === 'stop') return frontEndCommand(0, 0, 0, 0);
  if (command in FI) {
    const speed = byteOf(speeds.pan, 255, 'speed');
    const focus = command.startsWith('focus') ? speed : 0;
    const iris = command.startsWith('iris') ? speed : 0;
    return frontEndCommand(FI[command as keyof typeof FI], focus, iris, 0);
  }
  let cmd = 0;
  for (const [name, bit] of Object.entries(BITS)) if (command.includes(name)) cmd |= bit;
  if (cmd === 0) throw new GatewayError('BAD_REQUEST', `unknown PTZ command ${command}`);
  const pan = cmd & 0x03 ? byteOf(speeds.pan, 255, 'pan speed') : 0;
  const tilt = cmd & 0x0c ? byteOf(speeds.tilt ?? speeds.pan, 255, 'tilt speed') : 0;
  const zoom = cmd & 0x30 ? byteOf(speeds.zoom, 15, 'zoom speed') : 0;
  return frontEndCommand(cmd, pan, tilt, zoom);
}

export type PresetAction = 'set' | 'call' | 'delete';
const PRESET = { set: 0x81, call: 0x82, delete: 0x83 } as const;

/** Preset set/call/delete (Table A.5): byte 6 is the preset number 1-255. */
export function presetCommand(action: PresetAction, preset: number): string {
  const n = byteOf(preset, 255, 'preset');
  if (n === 0) throw new GatewayError('BAD_REQUEST', 'preset numbers are 1-255');
  return frontEndCommand(PRESET[action], 0, n, 0);
}

export type CruiseAction = 'add' | 'remove' | 'speed' | 'dwell' | 'start' | 'stop';

/**
 * Cruise (Table A.6): 0x84 add point, 0x85 remove point (preset 0: the whole cruise), 0x86
 * speed, 0x87 dwell time (values up to 4095: low 8 bits in byte 6, high 4 in byte 7), 0x88 start;
 * stop is the plain stop command.
 */
export function cruiseCommand(action: CruiseAction, group: number, value = 0): string {
  const g = byteOf(group, 255, 'cruise number');
  switch (action) {
    case 'add':
      return frontEndCommand(0x84, g, byteOf(value, 255, 'preset'), 0);
    case 'remove':
      return frontEndCommand(0x85, g, byteOf(value, 255, 'preset'), 0);
    case 'speed':
    case 'dwell': {
      const v = byteOf(value, 4095, action === 'speed' ? 'cruise speed' : 'dwell time');
      return frontEndCommand(action === 'speed' ? 0x86 : 0x87, g, v & 0xff, v >> 8);
    }
    case 'start':
      return frontEndCommand(0x88, g, 0, 0);
    case 'stop':
      return frontEndCommand(0, 0, 0, 0);
  }
}

export type ScanAction = 'start' | 'left' | 'right' | 'speed' | 'stop';

/** Auto scan (Table A.7): 0x89 with byte 6 0 start, 1 left bound, 2 right bound; 0x8A speed (12 bits). */
export function scanCommand(action: ScanAction, group: number, value = 0): string {
  const g = byteOf(group, 255, 'scan number');
  switch (action) {
    case 'start':
      return frontEndCommand(0x89, g, 0, 0);
    case 'left':
      return frontEndCommand(0x89, g, 1, 0);
    case 'right':
      return frontEndCommand(0x89, g, 2, 0);
    case 'speed': {
      const v = byteOf(value, 4095, 'scan speed');
      return frontEndCommand(0x8a, g, v & 0xff, v >> 8);
    }
    case 'stop':
      return frontEndCommand(0, 0, 0, 0);
  }
}

/** A PTZ request as the API takes it: a command with speeds, or a cruise/scan action. */
export interface PtzRequest {
  command: PtzCommand | 'cruise' | 'scan';
  speed?: number;
  panSpeed?: number;
  tiltSpeed?: number;
  zoomSpeed?: number;
  action?: string;
  group?: number;
  value?: number;
}

/** The hex PTZCmd of an API request; speed (default 128) applies where no specific speed is given. */
export function ptzRequestCommand(body: PtzRequest): string {
  if (body.command === 'cruise') return cruiseCommand((body.action ?? 'start') as CruiseAction, body.group ?? 1, body.value ?? 0);
  if (body.command === 'scan') return scanCommand((body.action ?? 'start') as ScanAction, body.group ?? 1, body.value ?? 0);
  const base = body.speed ?? 128;
  return ptzCommand(body.command, { pan: body.panSpeed ?? base, tilt: body.tiltSpeed ?? base, zoom: body.zoomSpeed ?? Math.min(15, Math.round(base / 17)) });
}

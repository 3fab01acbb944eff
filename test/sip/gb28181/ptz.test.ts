import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PTZ_COMMANDS, cruiseCommand, presetCommand, ptzCommand, scanCommand, type PtzCommand } from '../../../sip/gb28181/ptz';

// The spec table (GB/T 28181-2016 §A.3, Tables A.3-A.7), written out independently of ptz.ts:
// byte 4 of each command, which data bytes carry which speed.
const TABLE: Record<PtzCommand, { cmd: number; d1: 'pan' | 'focus' | 0; d2: 'tilt' | 'iris' | 0; zoom: boolean }> = {
  right: { cmd: 0x01, d1: 'pan', d2: 0, zoom: false },
  left: { cmd: 0x02, d1: 'pan', d2: 0, zoom: false },
  down: { cmd: 0x04, d1: 0, d2: 'tilt', zoom: false },
  up: { cmd: 0x08, d1: 0, d2: 'tilt', zoom: false },
  downright: { cmd: 0x05, d1: 'pan', d2: 'tilt', zoom: false },
  downleft: { cmd: 0x06, d1: 'pan', d2: 'tilt', zoom: false },
  upright: { cmd: 0x09, d1: 'pan', d2: 'tilt', zoom: false },
  upleft: { cmd: 0x0a, d1: 'pan', d2: 'tilt', zoom: false },
  zoomin: { cmd: 0x10, d1: 0, d2: 0, zoom: true },
  zoomout: { cmd: 0x20, d1: 0, d2: 0, zoom: true },
  focusfar: { cmd: 0x41, d1: 'focus', d2: 0, zoom: false },
  focusnear: { cmd: 0x42, d1: 'focus', d2: 0, zoom: false },
  irisopen: { cmd: 0x44, d1: 0, d2: 'iris', zoom: false },
  irisclose: { cmd: 0x48, d1: 0, d2: 'iris', zoom: false },
  stop: { cmd: 0x00, d1: 0, d2: 0, zoom: false },
};

function bytes(hex: string): number[] {
  assert.match(hex, /^[0-9A-F]{16}$/);
  return [...Buffer.from(hex, 'hex')];
}

function checksumOk(b: number[]): boolean {
  return b[7] === b.slice(0, 7).reduce((s, x) => s + x, 0) % 256;
}

test('the spec examples: stop is A50F0100000000B5, preset call 3, zoom in at speed 5', () => {
  assert.equal(ptzCommand('stop'), 'A50F0100000000B5');
  assert.equal(presetCommand('call', 3), 'A50F01820003003A');
  assert.equal(ptzCommand('zoomin', { zoom: 5 }), 'A50F011000005015');
  assert.equal(ptzCommand('left', { pan: 0x80 }), 'A50F010280000037');
});

test('property: every PTZ command at every speed has the table bytes and the checksum', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...PTZ_COMMANDS),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 15 }),
      (command, pan, tilt, zoom) => {
        const b = bytes(ptzCommand(command, { pan, tilt, zoom }));
        const row = TABLE[command];
        const speedOf = (field: string | 0, fallback: number) => (field === 'pan' || field === 'focus' ? pan : field === 'tilt' ? tilt : field === 'iris' ? fallback : 0);
        assert.deepEqual(b.slice(0, 4), [0xa5, 0x0f, 0x01, row.cmd]);
        assert.equal(b[4], speedOf(row.d1, 0));
        assert.equal(b[5], row.d2 === 'iris' ? pan : speedOf(row.d2, 0));
        assert.equal(b[6], row.zoom ? zoom << 4 : 0);
        assert.ok(checksumOk(b));
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: presets, cruise and scan carry their numbers and the checksum', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 4095 }), (preset, group, value) => {
      for (const [action, cmd] of [
        ['set', 0x81],
        ['call', 0x82],
        ['delete', 0x83],
      ] as const) {
        const b = bytes(presetCommand(action, preset));
        assert.deepEqual(b.slice(3, 7), [cmd, 0, preset, 0]);
        assert.ok(checksumOk(b));
      }
      const add = bytes(cruiseCommand('add', group, preset));
      assert.deepEqual(add.slice(3, 7), [0x84, group, preset, 0]);
      const speed = bytes(cruiseCommand('speed', group, value));
      assert.deepEqual(speed.slice(3, 7), [0x86, group, value & 0xff, (value >> 8) << 4]);
      const dwell = bytes(cruiseCommand('dwell', group, value));
      assert.deepEqual(dwell.slice(3, 7), [0x87, group, value & 0xff, (value >> 8) << 4]);
      assert.deepEqual(bytes(cruiseCommand('start', group)).slice(3, 5), [0x88, group]);
      assert.deepEqual(bytes(scanCommand('start', group)).slice(3, 6), [0x89, group, 0]);
      assert.deepEqual(bytes(scanCommand('left', group)).slice(3, 6), [0x89, group, 1]);
      assert.deepEqual(bytes(scanCommand('right', group)).slice(3, 6), [0x89, group, 2]);
      assert.deepEqual(bytes(scanCommand('speed', group, value)).slice(3, 7), [0x8a, group, value & 0xff, (value >> 8) << 4]);
      for (const hex of [add, speed, dwell]) assert.ok(checksumOk(hex));
    }),
    { numRuns: 500 },
  );
});

test('out-of-range speeds and presets are refused with a clear error', () => {
  assert.throws(() => ptzCommand('left', { pan: 256 }), /pan speed must be an integer 0-255/);
  assert.throws(() => ptzCommand('zoomin', { zoom: 16 }), /zoom speed must be an integer 0-15/);
  assert.throws(() => presetCommand('call', 0), /preset numbers are 1-255/);
  assert.throws(() => cruiseCommand('speed', 1, 4096), /cruise speed must be an integer 0-4095/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseManscdp } from '../../../sip/gb28181/manscdp';
import { alarmOf } from '../../../sip/gb28181/alarms';
import { alarmNotify } from '../../helpers/gb-sim-manscdp';
import { waitFor } from '../../helpers/gateway';
import { DEVICE_ID, startServer } from './gb-fixture';

const DEVICE = '34020000001320000001';
const CHANNEL = '34020000001310000001';

test('an Alarm notify reads into its fields; the body DeviceID is the channel', () => {
  const at = new Date(2026, 10, 30, 8, 0, 0).getTime();
  const alarm = alarmOf(DEVICE, parseManscdp(Buffer.from(alarmNotify(CHANNEL, 9, { priority: 2, method: 5, type: 2, timeMs: at, description: 'motion' }))), 123);
  assert.deepEqual(alarm, {
    deviceId: DEVICE,
    channelId: CHANNEL,
    priority: 2,
    method: 5,
    type: 2,
    alarmAt: at,
    receivedAt: 123,
    description: 'motion',
    longitude: 116.397128,
    latitude: 39.916527,
    sn: 9,
  });
});

test('property: any Alarm body gives bounded fields or nulls, never a throw', () => {
  const junk = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('1', '-3', '1e400', 'NaN', '2026-11-30T08:00:00', '999999'));
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('AlarmPriority', 'AlarmMethod', 'AlarmTime', 'AlarmDescription', 'Longitude', 'Latitude', 'AlarmType'), junk), (fields) => {
      const body = Object.entries(fields)
        .map(([k, v]) => `<${k}>${v.replace(/[<&]/g, '')}</${k}>`)
        .join('');
      const alarm = alarmOf(DEVICE, parseManscdp(Buffer.from(`<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>${CHANNEL}</DeviceID>${body}</Notify>`)), 5);
      assert.ok(alarm.priority === null || (alarm.priority >= 0 && alarm.priority <= 9));
      assert.ok(alarm.method === null || (alarm.method >= 0 && alarm.method <= 99));
      assert.ok(alarm.longitude === null || Math.abs(alarm.longitude) <= 180);
      assert.ok(Number.isFinite(alarm.alarmAt));
      assert.ok((alarm.description ?? '').length <= 500);
    }),
    { numRuns: 500 },
  );
});

test('alarmSubscribe: an Alarm SUBSCRIBE with the query body after registration, renewed before it expires; off by default', async () => {
  const off = await startServer();
  try {
    const sim = await off.simulator();
    assert.equal((await sim.register())?.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(sim.received.filter((r) => r.method === 'SUBSCRIBE' && r.body.includes('<CmdType>Alarm</CmdType>')).length, 0);
  } finally {
    await off.close();
  }
  const f = await startServer({ alarmSubscribeSec: 2 });
  try {
    const sim = await f.simulator();
    assert.equal((await sim.register())?.status, 200);
    const alarmSubscribes = () => sim.received.filter((r) => r.method === 'SUBSCRIBE' && r.body.includes('<CmdType>Alarm</CmdType>'));
    await waitFor(() => alarmSubscribes().length >= 2 || undefined, 5000, 'a renewed Alarm SUBSCRIBE');
    const first = alarmSubscribes()[0]!;
    assert.match(first.headers.get('event')?.[0] ?? '', /^Alarm;id=\d+$/);
    assert.equal(first.headers.get('expires')?.[0], '2');
    const body = first.body.toString();
    assert.match(body, /<Query>/);
    assert.match(body, /<StartAlarmPriority>1<\/StartAlarmPriority>/);
    assert.match(body, /<EndAlarmPriority>4<\/EndAlarmPriority>/);
    assert.match(body, /<AlarmMethod>0<\/AlarmMethod>/);
    assert.match(body, new RegExp(`<DeviceID>${DEVICE_ID}</DeviceID>`));
  } finally {
    await f.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseManscdp } from '../../../sip/gb28181/manscdp';
import { RecordInfoCollector, gbTime, parseGbTime, recordItems } from '../../../sip/gb28181/records';
import { presetsOf, resultOf } from '../../../sip/gb28181/control';
import { recordInfoBodies } from '../../helpers/gb-sim-manscdp';

const DEVICE = '34020000001320000001';
const CHANNEL = '34020000001310000001';
const BASE = new Date(2026, 10, 30, 8, 0, 0).getTime();
const RECORDS = Array.from({ length: 7 }, (_, i) => ({ startMs: BASE + i * 600_000, endMs: BASE + i * 600_000 + 300_000 }));

test('RecordInfo over 3 messages (newest first) joins to the sorted full list', async () => {
  const collector = new RecordInfoCollector(5000);
  const result = collector.expect(DEVICE, CHANNEL, 42);
  const bodies = recordInfoBodies(CHANNEL, '42', RECORDS, 3);
  assert.equal(bodies.length, 3);
  for (const body of bodies) assert.equal(collector.add(DEVICE, parseManscdp(Buffer.from(body))), true);
  const joined = await result;
  assert.equal(joined.complete, true);
  assert.equal(joined.messages, 3);
  assert.equal(joined.sumNum, 7);
  assert.deepEqual(
    joined.items.map((r) => r.startMs),
    RECORDS.map((r) => r.startMs),
  );
  assert.equal(joined.items[0]!.endMs, RECORDS[0]!.endMs);
  assert.equal(collector.add(DEVICE, parseManscdp(Buffer.from(bodies[0]!))), false, 'a late copy belongs to no query');
});

test('a RecordInfo answer missing a message is returned as partial at the timeout; none at all is a clear error', async () => {
  const collector = new RecordInfoCollector(200);
  const partial = collector.expect(DEVICE, CHANNEL, 1);
  collector.add(DEVICE, parseManscdp(Buffer.from(recordInfoBodies(CHANNEL, '1', RECORDS, 3)[0]!)));
  const got = await partial;
  assert.equal(got.complete, false);
  assert.equal(got.items.length, 3);
  await assert.rejects(collector.expect(DEVICE, CHANNEL, 2), /sent no RecordInfo answer for channel 34020000001310000001 within 0 s/);
});

test('GB local times round-trip; bad ones are undefined', () => {
  assert.equal(parseGbTime(gbTime(BASE)), BASE);
  assert.equal(parseGbTime('2026-11-30 08:00:00'), BASE);
  for (const bad of ['', 'yesterday', '2026-13-40T99:99:99x', undefined]) assert.equal(Number.isNaN(parseGbTime(bad) ?? NaN), true);
});

test('property: RecordInfo, PresetQuery and control answers of any shape never throw', () => {
  const junk = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('2026-11-30T08:00:00', '-1', '1e309', '<x>', '&amp;'));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('StartTime', 'EndTime', 'FileSize', 'Secrecy', 'PresetID', 'PresetName', 'Type'), junk), { maxLength: 12 }), (fields) => {
      const item = fields.map(([k, v]) => `<${k}>${v.replace(/[<&]/g, '')}</${k}>`).join('');
      for (const list of ['RecordList', 'PresetList']) {
        const xml = `<Response><CmdType>RecordInfo</CmdType><SN>1</SN><DeviceID>${DEVICE}</DeviceID><Result>${fields[0]?.[1].replace(/[<&]/g, '') ?? ''}</Result><${list} Num="1"><Item>${item}</Item></${list}></Response>`;
        const message = parseManscdp(Buffer.from(xml));
        for (const r of recordItems(message)) assert.ok(Number.isFinite(r.startMs) && Number.isFinite(r.endMs));
        for (const p of presetsOf(message)) assert.ok(p.id >= 1 && p.id <= 255);
        assert.equal(typeof resultOf(message).ok, 'boolean');
      }
    }),
    { numRuns: 500 },
  );
});

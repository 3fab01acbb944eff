import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { basicParamOf, buildManscdp, deviceInfoOf, deviceStatusOf, escapeXml } from '../../../sip/gb28181/commands';
import { decodeBody } from '../../../sip/gb28181/charset';
import { parseManscdp, textOf } from '../../../sip/gb28181/manscdp';

test('a Catalog query in GB2312 with the declaration GB28181 devices expect', () => {
  const body = buildManscdp('Query', 'Catalog', 7, '34020000001320000001', {}, 'GB2312');
  assert.equal(
    body.toString('latin1'),
    '<?xml version="1.0" encoding="GB2312"?>\r\n<Query>\r\n<CmdType>Catalog</CmdType>\r\n<SN>7</SN>\r\n<DeviceID>34020000001320000001</DeviceID>\r\n</Query>\r\n',
  );
});

test('answers are read into typed values; invalid heartbeat values are dropped', () => {
  const info = parseManscdp(
    Buffer.from(
      '<Response><CmdType>DeviceInfo</CmdType><SN>1</SN><DeviceID>1</DeviceID><DeviceName>cam</DeviceName><Manufacturer>Hik</Manufacturer><Model>DS</Model><Firmware>V5</Firmware><Channel>4</Channel></Response>',
    ),
  );
  assert.deepEqual(deviceInfoOf(info), { name: 'cam', manufacturer: 'Hik', model: 'DS', firmware: 'V5', channels: 4 });
  const param = parseManscdp(
    Buffer.from(
      '<Response><CmdType>ConfigDownload</CmdType><SN>1</SN><DeviceID>1</DeviceID><BasicParam><HeartBeatInterval>20</HeartBeatInterval><HeartBeatCount>0</HeartBeatCount><Expiration>3600</Expiration></BasicParam></Response>',
    ),
  );
  assert.deepEqual(basicParamOf(param), { heartbeatInterval: 20, heartbeatCount: undefined, expiration: 3600, name: undefined });
  const status = parseManscdp(Buffer.from('<Response><CmdType>DeviceStatus</CmdType><SN>1</SN><DeviceID>1</DeviceID><Online>ONLINE</Online><Status>OK</Status></Response>'));
  assert.equal(deviceStatusOf(status).online, true);
});

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const name = fc.stringMatching(/^[A-Z][A-Za-z]{0,10}$/);

test('property: built bodies parse back to the same fields (UTF-8 and GB18030)', () => {
  fc.assert(
    fc.property(fc.dictionary(name, text, { maxKeys: 6 }), fc.nat(), fc.constantFrom('UTF-8' as const, 'GB18030' as const), (fields, sn, charset) => {
      delete fields.CmdType;
      delete fields.SN;
      delete fields.DeviceID;
      const body = buildManscdp('Query', 'Test', sn, '34020000001320000001', fields, charset);
      const msg = parseManscdp(body);
      assert.equal(msg.cmdType, 'Test');
      assert.equal(msg.sn, sn);
      for (const [key, value] of Object.entries(fields)) {
        const expected = escapeXml(value).replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').trim();
        if (msg.charset === 'UTF-8' || charset === 'GB18030') assert.equal(textOf(msg.body[key]) ?? '', expected, `field ${key}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: GB2312 bodies of Chinese names round-trip unless the bytes happen to be valid UTF-8', () => {
  const hanzi = fc.string({ unit: fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 12 });
  fc.assert(
    fc.property(hanzi, (value) => {
      const body = buildManscdp('Query', 'Test', 1, '1', { Name: value }, 'GB2312');
      fc.pre(decodeBody(body).charset === 'GB18030');
      assert.equal(textOf(parseManscdp(body).body.Name), value);
    }),
    { numRuns: 500 },
  );
});

test('escapeXml removes what XML 1.0 cannot carry', () => {
  assert.equal(escapeXml('a\u0000b\u001fc<&>'), 'abc&lt;&amp;&gt;');
  assert.equal(escapeXml('\ud800x'), 'x');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { ParseError } from '../../../src/core/errors';
import { decodeBody, encodeBody } from '../../../sip/gb28181/charset';
import { catalogItems, listNumOf, sumNumOf } from '../../../sip/gb28181/commands';
import { parseManscdp, repairXml } from '../../../sip/gb28181/manscdp';
import { CATALOG_XML, KEEPALIVE_XML, gb2312 } from '../cases';

test('a GB2312 Catalog answer with Hikvision raw & and < decodes and repairs', () => {
  const msg = parseManscdp(gb2312(CATALOG_XML));
  assert.equal(msg.root, 'Response');
  assert.equal(msg.cmdType, 'Catalog');
  assert.equal(msg.sn, 17);
  assert.equal(msg.charset, 'GB18030');
  assert.equal(sumNumOf(msg), 2);
  assert.equal(listNumOf(msg), 2);
  const [camera, civil] = catalogItems(msg);
  assert.equal(camera!.name, '东门摄像机');
  assert.equal(camera!.address, 'A&B 楼 <3层>');
  assert.equal(camera!.online, true);
  assert.equal(camera!.kind, 'device');
  assert.equal(camera!.ptzType, 1);
  assert.equal(camera!.longitude, 116.3971);
  assert.equal(civil!.kind, 'civil');
  assert.equal(civil!.name, '行政区划');
});

test('a body declared GB2312 but sent as UTF-8 is read as UTF-8', () => {
  const msg = parseManscdp(Buffer.from(CATALOG_XML, 'utf8'));
  assert.equal(msg.charset, 'UTF-8');
  assert.equal(catalogItems(msg)[0]!.name, '东门摄像机');
});

test('characters outside GB2312 (GBK/GB18030) survive: decoded as GB18030', () => {
  const xml = KEEPALIVE_XML.replace('<Status>OK</Status>', '<Name>萳𠀀</Name>');
  const msg = parseManscdp(iconv.encode(xml, 'gb18030'));
  assert.equal(msg.body.Name, '萳𠀀');
});

test('repairXml leaves well-formed XML alone and escapes stray & and <', () => {
  assert.equal(repairXml(KEEPALIVE_XML), KEEPALIVE_XML);
  assert.equal(repairXml('<a>x &amp; y &#20013; &lt;</a>'), '<a>x &amp; y &#20013; &lt;</a>');
  assert.equal(repairXml('<a>x & y</a>'), '<a>x &amp; y</a>');
  assert.equal(repairXml('<a>1 < 2</a>'), '<a>1 &lt; 2</a>');
  assert.equal(repairXml('<a>b<c</a>'), '<a>b&lt;c</a>');
  assert.equal(repairXml('<!-- c --><a/><![CDATA[<x>]]>'), '<!-- c --><a/><![CDATA[<x>]]>');
});

const BAD = [
  '',
  'not xml',
  '<Foo><CmdType>X</CmdType></Foo>',
  '<Query></Query>',
  '<Query><CmdType>bad type!</CmdType></Query>',
  '<!DOCTYPE x [<!ENTITY a "b">]><Query><CmdType>A</CmdType></Query>',
  `${'<a>'.repeat(100)}`,
];
for (const body of BAD) {
  test(`bad MANSCDP "${body.slice(0, 30)}" throws ParseError`, () => {
    assert.throws(() => parseManscdp(Buffer.from(body)), ParseError);
  });
}

function onlyParseErrors(buf: Buffer): void {
  try {
    const msg = parseManscdp(buf);
    catalogItems(msg);
    sumNumOf(msg);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

test('property: random bytes and mutated answers only throw ParseError, and fast', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (b) => onlyParseErrors(Buffer.from(b))),
    { numRuns: 1500 },
  );
  const seeds = [gb2312(CATALOG_XML), Buffer.from(KEEPALIVE_XML)];
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x3c, 0x3e, 0x26, 0x2f, 0x22, 0xb6, 0x00, 0x41))), (seed, edits) => {
      const buf = Buffer.from(seed);
      for (const [at, byte] of edits) buf[at % buf.length] = byte;
      onlyParseErrors(buf);
    }),
    { numRuns: 3000 },
  );
});

test('property: text with stray & and < always parses after repair, content preserved', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'b', '&', '<', '>', ' ', '中', ';', '#', '/', '!'), maxLength: 60 });
  fc.assert(
    fc.property(text, (value) => {
      const xml = `<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>1</DeviceID><Info>${value}</Info></Notify>`;
      const msg = parseManscdp(Buffer.from(xml, 'utf8'));
      assert.equal(msg.cmdType, 'Keepalive');
    }),
    { numRuns: 1000 },
  );
});

// No wall-clock bound (the machine may be loaded): a parser that went quadratic on these
// 300-500 KB bodies would take minutes and trip the test's timeout.
test('pathological XML stays linear', { timeout: 20_000 }, () => {
  for (const body of ['<a '.repeat(100_000), '&'.repeat(300_000), '<!--'.repeat(100_000), `<Query>${'<a>'.repeat(30)}${'x'.repeat(500_000)}`]) {
    onlyParseErrors(Buffer.from(body));
  }
});

test('charset: encode per device charset, decode UTF-8 when valid else GB18030', () => {
  assert.deepEqual(encodeBody('摄像机', 'GB2312'), gb2312('摄像机'));
  assert.deepEqual(encodeBody('摄像机', 'UTF-8'), Buffer.from('摄像机'));
  assert.deepEqual(decodeBody(gb2312('摄像机')), { text: '摄像机', charset: 'GB18030' });
  assert.deepEqual(decodeBody(Buffer.from('摄像机')), { text: '摄像机', charset: 'UTF-8' });
});

test('property: the keepalive fast path reads exactly what the XML parser reads', () => {
  const keepalive = (sn: string, id: string, status: string, extra = ''): Buffer =>
    Buffer.from(
      `<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${id}</DeviceID>\r\n<Status>${status}</Status>${extra}\r\n</Notify>\r\n`,
    );
  fc.assert(
    fc.property(fc.stringMatching(/^\d{1,10}$/), fc.stringMatching(/^[0-9A-Za-z]{1,64}$/), fc.stringMatching(/^[A-Za-z]{0,16}$/), (sn, id, status) => {
      const fast = parseManscdp(keepalive(sn, id, status));
      const full = parseManscdp(keepalive(sn, id, status, '<!-- forces the parser -->'));
      assert.deepEqual(fast, full);
    }),
    { numRuns: 300 },
  );
});

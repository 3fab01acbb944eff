import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../src/core/errors';
import { isRequest, parseSipMessage, parseUri, serializeSipMessage, uriUser, type SipRequest } from '../../sip/message';
import { CATALOG_XML, REGISTER, gb2312, message } from './cases';

test('the sip package parses GB28181 URIs (id@domain, id@ip:port)', () => {
  assert.deepEqual(parseUri('sip:34020000001320000001@3402000000'), { user: '34020000001320000001', host: '3402000000', port: undefined, params: {} });
  assert.equal(parseUri('sip:34020000001320000001@192.168.1.64:5060')?.port, 5060);
  assert.equal(parseUri('not a uri'), undefined);
});

test('a device REGISTER parses into typed headers', () => {
  const msg = parseSipMessage(Buffer.from(REGISTER, 'latin1')) as SipRequest;
  assert.ok(isRequest(msg));
  assert.equal(msg.method, 'REGISTER');
  assert.equal(uriUser(msg.headers.from), '34020000001320000001');
  assert.equal(msg.headers.via[0]!.host, '192.168.1.64');
  assert.ok('rport' in msg.headers.via[0]!.params);
  assert.deepEqual(msg.headers.cseq, { seq: 1, method: 'REGISTER' });
  assert.equal(msg.headers.expires, '3600');
  assert.equal(msg.content?.length, 0);
});

test('a GB2312 body keeps its bytes and Content-Length counts bytes, not characters', () => {
  const body = gb2312(CATALOG_XML);
  assert.ok(body.length < Buffer.byteLength(CATALOG_XML, 'utf8'));
  const msg = parseSipMessage(message('MESSAGE', body));
  assert.deepEqual(msg.content, body);
  const out = serializeSipMessage(msg);
  assert.match(out.toString('latin1'), new RegExp(`Content-Length: ${body.length}\\r\\n`));
  assert.deepEqual(parseSipMessage(out).content, body);
});

test('leading CRLF keep-alives are skipped', () => {
  const msg = parseSipMessage(Buffer.from(`\r\n\r\n${REGISTER}`, 'latin1'));
  assert.equal((msg as SipRequest).method, 'REGISTER');
});

const BAD: [string, string][] = [
  ['no header end', 'REGISTER sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h'],
  ['garbage start line', 'HELLO WORLD\r\n\r\n'],
  ['no Via', REGISTER.replace(/Via:.*\r\n/, '')],
  ['no Call-ID', REGISTER.replace(/Call-ID:.*\r\n/, '')],
  ['bad CSeq', REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: x')],
  ['CSeq method mismatch', REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: 1 INVITE')],
  ['leading spaces', `   ${REGISTER}`],
  ['binary', '\u0000\u0001\u0002\r\n\r\n'],
];

for (const [name, text] of BAD) {
  test(`malformed SIP (${name}) throws ParseError`, () => {
    assert.throws(() => parseSipMessage(Buffer.from(text, 'latin1')), ParseError);
  });
}

function onlyParseErrors(input: Buffer): void {
  try {
    parseSipMessage(input);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

test('property: random bytes only ever throw ParseError, fast', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => onlyParseErrors(Buffer.from(bytes))),
    { numRuns: 2000 },
  );
});

test('property: mutated valid messages only ever throw ParseError, fast', () => {
  const seeds = [Buffer.from(REGISTER, 'latin1'), message('MESSAGE', gb2312(CATALOG_XML))];
  const mutation = fc.record({
    seed: fc.constantFrom(...seeds),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'dup')), { maxLength: 8 }),
  });
  fc.assert(
    fc.property(mutation, ({ seed, edits }) => {
      let buf = Buffer.from(seed);
      for (const [at, byte, kind] of edits) {
        const i = at % Math.max(1, buf.length);
        if (kind === 'set') buf[i] = byte;
        else if (kind === 'cut') buf = buf.subarray(0, i);
        else buf = Buffer.concat([buf.subarray(0, i), buf.subarray(i, i + 40), buf.subarray(i)]);
      }
      onlyParseErrors(buf);
    }),
    { numRuns: 3000 },
  );
});

// No wall-clock bound (the machine may be loaded): a regex blow-up on these inputs takes
// minutes and trips the test's timeout.
test('pathological inputs stay fast (no regex blow-up)', { timeout: 20_000 }, () => {
  const cases = [
    ' '.repeat(60_000),
    `REGISTER sip:a@b SIP/2.0\r\nFrom: ${'a '.repeat(6000)}\r\n\r\n`,
    `REGISTER sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP ${'x'.repeat(15000)}\r\n\r\n`,
    `REGISTER sip:a@b SIP/2.0\r\nContact: ${'<sip:a@b>,'.repeat(1500)}\r\n\r\n`,
    `REGISTER sip:a@b SIP/2.0\r\nAuthorization: Digest ${'a="\\\\'.repeat(3000)}\r\n\r\n`,
    `${'\r\n'.repeat(20000)}REGISTER sip:a@b SIP/2.0\r\n\r\n`,
  ];
  for (const text of cases) onlyParseErrors(Buffer.from(text, 'latin1'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../src/core/errors';
import { SipStreamFramer } from '../../sip/framing';
import { CATALOG_XML, REGISTER, gb2312, message } from './cases';

const withBody = message('MESSAGE', gb2312(CATALOG_XML));
const register = Buffer.from(REGISTER, 'latin1');

test('messages split anywhere across chunks come out whole, bodies by Content-Length in bytes', () => {
  const stream = Buffer.concat([register, Buffer.from('\r\n\r\n'), withBody, register]);
  fc.assert(
    fc.property(fc.array(fc.nat({ max: stream.length }), { maxLength: 10 }), (cuts) => {
      const framer = new SipStreamFramer();
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const out: Buffer[] = [];
      let last = 0;
      for (const p of [...points, stream.length]) {
        out.push(...framer.feed(stream.subarray(last, p)));
        last = p;
      }
      assert.deepEqual(out, [register, withBody, register]);
      assert.equal(framer.buffered, 0);
    }),
    { numRuns: 300 },
  );
});

test('a bad or oversized Content-Length, or endless headers, throw ParseError', () => {
  assert.throws(() => new SipStreamFramer().feed(Buffer.from(REGISTER.replace('Content-Length: 0', 'Content-Length: abc'))), ParseError);
  assert.throws(() => new SipStreamFramer({ maxBody: 1000 }).feed(Buffer.from(REGISTER.replace('Content-Length: 0', 'Content-Length: 5000'))), ParseError);
  assert.throws(() => new SipStreamFramer().feed(Buffer.alloc(20_000, 0x41)), ParseError);
});

test('property: random streams never throw anything but ParseError', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 5 }), (chunks) => {
      const framer = new SipStreamFramer();
      try {
        for (const c of chunks) framer.feed(Buffer.from(c));
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
    }),
    { numRuns: 500 },
  );
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AMF0_MAX_DEPTH, Amf0EcmaArray, amf0Properties, decodeAmf0, encodeAmf0, type Amf0Value } from '../../../src/formats/amf0/amf0';
import { ParseError } from '../../../src/core/errors';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Values and their exact encodings, shared by the encode and decode tests. */
const cases: { name: string; value: Amf0Value; bytes: string }[] = [
  { name: 'number', value: 1, bytes: '00 3ff0000000000000' },
  { name: 'negative zero', value: -0, bytes: '00 8000000000000000' },
  { name: 'true', value: true, bytes: '01 01' },
  { name: 'false', value: false, bytes: '01 00' },
  { name: 'string', value: 'connect', bytes: '02 0007 636f6e6e656374' },
  { name: 'empty string', value: '', bytes: '02 0000' },
  { name: 'utf-8 string', value: 'é', bytes: '02 0002 c3a9' },
  { name: 'null', value: null, bytes: '05' },
  { name: 'undefined', value: undefined, bytes: '06' },
  { name: 'object', value: { a: 1 }, bytes: '03 0001 61 00 3ff0000000000000 0000 09' },
  { name: 'empty object', value: {}, bytes: '03 0000 09' },
  {
    name: 'ecma array',
    value: new Amf0EcmaArray({ w: true }),
    bytes: '08 00000001 0001 77 01 01 0000 09',
  },
  { name: 'strict array', value: [null, 'x'], bytes: '0a 00000002 05 02 0001 78' },
  { name: 'date', value: new Date(0), bytes: '0b 0000000000000000 0000' },
];

describe('AMF0 encode/decode table', () => {
  for (const c of cases) {
    it(`encodes ${c.name}`, () => {
      assert.deepEqual(encodeAmf0(c.value), hex(c.bytes));
    });
    it(`decodes ${c.name}`, () => {
      assert.deepStrictEqual(decodeAmf0(hex(c.bytes)), [c.value]);
    });
  }

  it('encodes several values in a row (an RTMP command)', () => {
    const body = encodeAmf0('_result', 1, null, { code: 'NetStream.Publish.Start' });
    const back = decodeAmf0(body);
    assert.deepStrictEqual(back, ['_result', 1, null, { code: 'NetStream.Publish.Start' }]);
  });

  it('uses a long string over 65535 bytes', () => {
    const long = 'a'.repeat(70_000);
    const body = encodeAmf0(long);
    assert.equal(body[0], 0x0c);
    assert.equal(body.readUInt32BE(1), 70_000);
    assert.deepStrictEqual(decodeAmf0(body), [long]);
  });
});

describe('AMF0 decode specifics', () => {
  it('decodes a typed object as a plain object', () => {
    assert.deepStrictEqual(decodeAmf0(hex('10 0001 43 0001 61 05 0000 09')), [{ a: null }]);
  });

  it('decodes XML document as string and unsupported as undefined', () => {
    assert.deepStrictEqual(decodeAmf0(hex('0f 00000001 3c 0d')), ['<', undefined]);
  });

  it('resolves a reference to a completed object', () => {
    // [ {a:1}, ref 1 ]: the strict array is reference 0, the object reference 1.
    const out = decodeAmf0(hex('0a 00000002 03 0001 61 00 3ff0000000000000 0000 09 07 0001'));
    const arr = out[0] as Amf0Value[];
    assert.equal(arr[0], arr[1]);
    assert.deepStrictEqual(arr[1], { a: 1 });
  });

  it('refuses a reference to an enclosing object (a cycle)', () => {
    assert.throws(() => decodeAmf0(hex('03 0001 61 07 0000 0000 09')), ParseError);
  });

  it('refuses a reference to an unknown object', () => {
    assert.throws(() => decodeAmf0(hex('07 0003')), ParseError);
  });

  it('accepts an ECMA array ending with the data (no end marker)', () => {
    const out = decodeAmf0(hex('08 00000001 0001 77 01 01'));
    assert.deepStrictEqual(out, [new Amf0EcmaArray({ w: true })]);
  });

  it('ignores the ECMA array count', () => {
    const out = decodeAmf0(hex('08 00000000 0001 77 01 01 0000 09'));
    assert.deepStrictEqual(amf0Properties(out[0]), { w: true });
  });

  it('does not let a __proto__ key set the prototype', () => {
    const key = Buffer.from('__proto__');
    const body = Buffer.concat([hex('03'), hex('0009'), key, hex('03 0001 78 01 01 0000 09 0000 09')]);
    const [obj] = decodeAmf0(body) as [Record<string, Amf0Value>];
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.equal((obj as { x?: unknown }).x, undefined);
    assert.deepStrictEqual(Object.keys(obj), ['__proto__']);
  });

  it('amf0Properties reads objects and ECMA arrays alike', () => {
    assert.deepStrictEqual(amf0Properties({ a: 1 }), { a: 1 });
    assert.deepStrictEqual(amf0Properties(new Amf0EcmaArray({ b: 2 })), { b: 2 });
    assert.equal(amf0Properties([1]), undefined);
    assert.equal(amf0Properties(null), undefined);
    assert.equal(amf0Properties(new Date(0)), undefined);
  });

  const bad: [string, string][] = [
    ['AMF3 switch', '11 04 01'],
    ['movie clip', '04'],
    ['record set', '0e'],
    ['object end at top level', '09'],
    ['truncated number', '00 3ff0'],
    ['truncated string', '02 0005 6162'],
    ['object without end', '03 0001 61 05'],
    ['strict array count beyond data', '0a ffffffff 05'],
    ['long string over the cap', '0c 7fffffff'],
    ['unknown marker', '20'],
    ['truncated date', '0b 0000000000000000 00'],
  ];
  for (const [name, bytes] of bad) {
    it(`throws ParseError on ${name}`, () => {
      assert.throws(() => decodeAmf0(hex(bytes)), ParseError);
    });
  }

  it('caps the nesting depth', () => {
    const depth = AMF0_MAX_DEPTH + 5;
    const body = Buffer.concat([Buffer.alloc(depth * 5, 0), Buffer.from([0x05])]);
    for (let i = 0; i < depth; i++) body.set(hex('0a 00000001'), i * 5);
    assert.throws(() => decodeAmf0(body), ParseError);
  });

  it('encode refuses a cycle with a RangeError', () => {
    const obj: Record<string, Amf0Value> = {};
    obj.self = obj;
    assert.throws(() => encodeAmf0(obj), RangeError);
  });
});

/** Arbitrary AMF0 values that round-trip exactly (valid dates only, shallow enough). */
const valueArb: fc.Arbitrary<Amf0Value> = fc.letrec<{ value: Amf0Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.boolean(),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4, noNullPrototype: true }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4, noNullPrototype: true }).map((entries) => new Amf0EcmaArray(entries)),
  ),
})).value;

describe('AMF0 properties', () => {
  it('decode(encode(values)) === values', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 4 }), (values) => {
        assert.deepStrictEqual(decodeAmf0(encodeAmf0(...values)), values);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes only ever throw ParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeAmf0(Buffer.from(bytes));
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid encodings only ever throw ParseError', () => {
    fc.assert(
      fc.property(
        fc.array(valueArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (values, edits, cut) => {
          const body = Buffer.from(encodeAmf0(...values));
          for (const [at, byte] of edits) body[at % body.length] = byte;
          const input = body.subarray(0, body.length - (cut % 3 === 0 ? cut % body.length : 0));
          try {
            decodeAmf0(input);
          } catch (err) {
            assert.ok(err instanceof ParseError, String(err));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

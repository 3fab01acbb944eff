import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkMemo, byteLengthOf, chunkMessage } from '../../../src/protocols/rtmp/chunk-writer';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('chunkMessage', () => {
  it('writes a one-chunk message with a type-0 header', () => {
    const body = hex('aabbcc');
    const out = chunkMessage({ chunkStreamId: 3, typeId: 20, streamId: 1, timestamp: 1000, body: [body] }, 128);
    assert.deepEqual(Buffer.concat(out), hex('03 0003e8 000003 14 01000000 aabbcc'));
    assert.equal(out[1], body, 'the body Buffer itself, not a copy');
  });

  it('splits with type-3 headers and never copies the body', () => {
    const a = Buffer.alloc(5, 1);
    const b = Buffer.alloc(4, 2);
    const out = chunkMessage({ chunkStreamId: 6, typeId: 9, streamId: 1, timestamp: 0, body: [a, b] }, 4);
    assert.deepEqual(Buffer.concat(out), hex('06 000000 000009 09 01000000 01010101 c6 01020202 c6 02'));
    for (const piece of out.slice(1)) {
      if (piece.length === 1 && piece[0] === 0xc6) continue;
      assert.ok(piece.buffer === a.buffer || piece.buffer === b.buffer, 'a view of a body part');
    }
    assert.equal(out[2], out[5], 'one continuation header Buffer');
  });

  it('writes 2- and 3-byte basic headers', () => {
    const two = chunkMessage({ chunkStreamId: 70, typeId: 8, streamId: 0, timestamp: 0, body: [hex('ff')] }, 128);
    assert.deepEqual(two[0]!.subarray(0, 2), hex('00 06'));
    const three = chunkMessage({ chunkStreamId: 65599, typeId: 8, streamId: 0, timestamp: 0, body: [hex('ff')] }, 128);
    assert.deepEqual(three[0]!.subarray(0, 3), hex('01 ff ff'));
  });

  it('repeats the extended timestamp on type-3 chunks', () => {
    const out = chunkMessage({ chunkStreamId: 4, typeId: 8, streamId: 1, timestamp: 0x1000000, body: [Buffer.alloc(3)] }, 2);
    assert.deepEqual(Buffer.concat(out), hex('04 ffffff 000003 08 01000000 01000000 0000 c4 01000000 00'));
  });

  it('refuses out-of-range arguments', () => {
    const msg = { chunkStreamId: 1, typeId: 8, streamId: 0, timestamp: 0, body: [] };
    assert.throws(() => chunkMessage(msg, 128), RangeError);
    assert.throws(() => chunkMessage({ ...msg, chunkStreamId: 3 }, 0), RangeError);
  });

  it('bytes out = body + headers, for any split of the body', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), fc.integer({ min: 1, max: 200 }), (parts, size) => {
        const body = parts.map((p) => Buffer.from(p));
        const length = byteLengthOf(body);
        const out = chunkMessage({ chunkStreamId: 6, typeId: 9, streamId: 1, timestamp: 5, body }, size);
        const chunks = Math.max(1, Math.ceil(length / size));
        assert.equal(byteLengthOf(out), length + 12 + (chunks - 1));
      }),
    );
  });
});

describe('ChunkMemo', () => {
  it('builds once per key and variant', () => {
    const memo = new ChunkMemo();
    const frame = {};
    let builds = 0;
    const build = (): Buffer[] => {
      builds++;
      return [Buffer.alloc(1)];
    };
    const first = memo.variant('v1').get(frame, build);
    assert.equal(memo.variant('v1').get(frame, build), first);
    memo.variant('v2').get(frame, build);
    memo.variant('v1').get({}, build);
    assert.equal(builds, 3);
  });

  it('keeps the frame asked for last per variant, for the players that ask for it next', () => {
    const memo = new ChunkMemo();
    const frame = {};
    const chunks = [Buffer.alloc(1)];
    const v1 = memo.variant('v1');
    assert.equal(v1.last(frame), undefined, 'nothing asked yet');
    assert.equal(
      v1.get(frame, () => chunks),
      chunks,
    );
    assert.equal(v1.last(frame), chunks);
    assert.equal(memo.variant('v1'), v1, 'one variant object per variant: players of it share it');
    assert.equal(memo.variant('v2').last(frame), undefined, 'another variant keeps its own');
    assert.equal(v1.last({}), undefined, 'another frame is not the last one');
  });
});

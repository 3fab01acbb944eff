import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkReader } from '../../../src/protocols/rtmp/chunk-reader';
import { chunkMessage } from '../../../src/protocols/rtmp/chunk-writer';
import { setChunkSizeMessage } from '../../../src/protocols/rtmp/control';
import type { RtmpMessage } from '../../../src/protocols/rtmp/message';
import { ParseError } from '../../../src/core/errors';
import { ByteBudget } from '../../../src/core/budget';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeChunks, messagesArb, splitAt, type TestMessage } from './chunk-helpers';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function readAll(reader: ChunkReader, parts: Buffer[]): RtmpMessage[] {
  return parts.flatMap((p) => reader.feed(p));
}

function plain(messages: RtmpMessage[]): TestMessage[] {
  return messages.map((m) => ({ ...m, body: Buffer.from(m.body) }));
}

describe('ChunkReader', () => {
  it('reads a type-0 message with a 1-byte basic header', () => {
    // csid 3, ts 1000, length 3, type 20, stream 0
    const msgs = new ChunkReader().feed(hex('03 0003e8 000003 14 00000000 aabbcc'));
    assert.deepStrictEqual(plain(msgs), [{ chunkStreamId: 3, typeId: 20, streamId: 0, timestamp: 1000, body: hex('aabbcc') }]);
  });

  it('reads 2- and 3-byte basic headers', () => {
    const two = new ChunkReader().feed(hex('00 06 000000 000001 08 01000000 ff'));
    assert.equal(two[0]!.chunkStreamId, 70);
    assert.equal(two[0]!.streamId, 1);
    const three = new ChunkReader().feed(hex('01 ff ff 000000 000001 08 00000000 ff'));
    assert.equal(three[0]!.chunkStreamId, 65599);
  });

  it('accumulates type 1, 2 and 3 deltas (Spec: RTMP 1.0 §5.3.2.1)', () => {
    const bytes = Buffer.concat([
      hex('04 0003e8 000002 08 01000000 0102'), // type 0: ts 1000
      hex('44 000014 000002 08 0304'), // type 1: +20
      hex('84 00001e 0506'), // type 2: +30
      hex('c4 0708'), // type 3: +30 again
    ]);
    const msgs = new ChunkReader().feed(bytes);
    assert.deepEqual(
      msgs.map((m) => m.timestamp),
      [1000, 1020, 1050, 1080],
    );
    assert.deepEqual(msgs[3]!.body, hex('0708'));
    assert.equal(msgs[3]!.streamId, 1);
  });

  it('joins a message split into chunks, interleaved with another chunk stream', () => {
    const reader = new ChunkReader();
    reader.feed(chunkMessage(setChunkSizeMessage(4), 128).reduce((a, b) => Buffer.concat([a, b])));
    assert.equal(reader.inChunkSize, 4);
    const bytes = Buffer.concat([hex('06 000000 000006 09 01000000 01020304'), hex('04 000000 000002 08 01000000 aabb'), hex('c6 0506')]);
    const msgs = reader.feed(bytes);
    assert.deepEqual(
      msgs.map((m) => [m.chunkStreamId, m.body.toString('hex')]),
      [
        [4, 'aabb'],
        [6, '010203040506'],
      ],
    );
  });

  it('reads extended timestamps repeated on type-3 chunks', () => {
    const msgs = [{ chunkStreamId: 6, typeId: 9, streamId: 1, timestamp: 0x1234567, body: Buffer.alloc(300, 1) }];
    const bytes = encodeChunks(msgs, 128);
    const out = new ChunkReader().feed(bytes);
    assert.deepStrictEqual(plain(out), msgs);
  });

  it('reads extended timestamps not repeated on type-3 chunks', () => {
    const msgs = [
      { chunkStreamId: 6, typeId: 9, streamId: 1, timestamp: 0x1234567, body: Buffer.alloc(300, 1) },
      { chunkStreamId: 6, typeId: 9, streamId: 1, timestamp: 0x1234567 + 40, body: Buffer.alloc(200, 2) },
    ];
    const bytes = encodeChunks(msgs, 128, { repeatExtended: false });
    const out = new ChunkReader().feed(bytes);
    assert.deepStrictEqual(plain(out), msgs);
  });

  it('handles a zero-length message', () => {
    const out = new ChunkReader().feed(hex('03 000000 000000 14 00000000 03 000001 000001 14 00000000 05'));
    assert.deepEqual(
      out.map((m) => m.body.length),
      [0, 1],
    );
  });

  it('applies Abort to the partial message of a chunk stream', () => {
    const reader = new ChunkReader();
    reader.feed(Buffer.concat(chunkMessage(setChunkSizeMessage(2), 128)));
    const out = reader.feed(
      Buffer.concat([hex('06 000000 000004 09 01000000 0102'), hex('02 000000 000004 02 00000000'), hex('0000'), hex('c2 0006'), hex('06 000000 000001 09 01000000 ff')]),
    );
    assert.deepEqual(
      out.map((m) => m.typeId),
      [2, 9],
    );
    assert.deepEqual(out[1]!.body, hex('ff'));
  });

  it('returns copies: the input may be reused', () => {
    const input = hex('03 000000 000002 14 00000000 0102');
    const [msg] = new ChunkReader().feed(input);
    input.fill(0);
    assert.deepEqual(msg!.body, hex('0102'));
  });

  const bad: [string, string, object?][] = [
    ['type 1 on a new chunk stream', '43 000000 000001 14 00'],
    ['type 3 on a new chunk stream', 'c3 00'],
    ['a type-0 header inside a message', '03 000000 0000ff 14 00000000 ' + '00'.repeat(128) + '03 000000 000001 14 00000000 00'],
    ['a message over the cap', '03 000000 100000 09 00000000', { maxMessageBytes: 0xfffff }],
    ['set chunk size 0', '02 000000 000004 01 00000000 00000000'],
    ['set chunk size over the cap', '02 000000 000004 01 00000000 02000000'],
    ['a short set chunk size', '02 000000 000002 01 00000000 0000'],
    ['too many chunk streams', '03 000000 000000 09 00000000 04 000000 000000 09 00000000', { maxChunkStreams: 1 }],
    ['too many pending bytes', '03 000000 000100 09 00000000' + '00'.repeat(128) + '04 000000 000100 09 00000000', { maxPendingBytes: 0x1ff }],
  ];
  for (const [name, bytes, limits] of bad) {
    it(`throws ParseError on ${name}`, () => {
      assert.throws(() => new ChunkReader(limits).feed(hex(bytes)), ParseError);
    });
  }

  it('counts the bytes fed', () => {
    const reader = new ChunkReader();
    reader.feed(hex('03 0003e8'));
    reader.feed(hex('000003 14 00000000 aabbcc'));
    assert.equal(reader.bytesIn, 15);
  });
});

describe('ChunkReader on a real ffmpeg publish', () => {
  // See test/fixtures/rtmp/README.md: ffmpeg's bytes after C0/C1/C2.
  const recording = readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rtmp', 'ffmpeg-publish-h264-aac.rtmp'));
  const chunks = recording.subarray(1 + 2 * 1536);

  it('reads every message ffmpeg sent', () => {
    const messages = new ChunkReader().feed(chunks);
    const counts: Record<number, number> = {};
    for (const m of messages) counts[m.typeId] = (counts[m.typeId] ?? 0) + 1;
    assert.deepEqual(counts, { 1: 1, 8: 46, 9: 27, 18: 1, 20: 7 });
    const video = messages.filter((m) => m.typeId === 9);
    assert.deepEqual(
      video.slice(0, 4).map((m) => m.timestamp),
      [0, 0, 40, 80],
    );
    assert.ok(video.every((m) => m.streamId === 1 && m.chunkStreamId === 6));
  });

  it('reads the same messages however the bytes are split', () => {
    const whole = plain(new ChunkReader().feed(chunks));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: chunks.length }), { maxLength: 40 }), (cuts) => {
        assert.deepStrictEqual(plain(readAll(new ChunkReader(), splitAt(chunks, cuts))), whole);
      }),
      { numRuns: 100 },
    );
  });
});

describe('ChunkReader properties', () => {
  const options = fc.record({
    chunkSize: fc.integer({ min: 1, max: 300 }),
    compress: fc.boolean(),
    repeatExtended: fc.boolean(),
  });

  it('reads back what a compressing encoder wrote, however the bytes are split', () => {
    fc.assert(
      fc.property(messagesArb(), options, fc.array(fc.nat(), { maxLength: 10 }), (msgs, opt, cuts) => {
        const setSize = { chunkStreamId: 2, typeId: 1, streamId: 0, timestamp: 0, body: Buffer.alloc(4) };
        setSize.body.writeUInt32BE(opt.chunkSize);
        // A trailer keeps data coming: a reader that must peek 4 bytes to tell an unrepeated
        // extended timestamp from payload waits for them (as SRS does).
        const trailer = { chunkStreamId: 9, typeId: 20, streamId: 0, timestamp: 0, body: Buffer.from('trailer!') };
        const bytes = Buffer.concat([encodeChunks([setSize], 128), encodeChunks([...msgs, trailer], opt.chunkSize, opt)]);
        const out = readAll(new ChunkReader(), splitAt(bytes, cuts));
        assert.deepStrictEqual(plain(out.slice(1)), [...msgs, trailer]);
      }),
      { numRuns: 300 },
    );
  });

  it('reads back what chunkMessage wrote', () => {
    fc.assert(
      fc.property(messagesArb(), fc.integer({ min: 1, max: 300 }), fc.array(fc.nat(), { maxLength: 6 }), (msgs, size, cuts) => {
        const parts = [...chunkMessage(setChunkSizeMessage(size), 128)];
        for (const m of msgs) {
          const pieces = [m.body.subarray(0, 7), m.body.subarray(7)];
          parts.push(...chunkMessage({ ...m, body: pieces }, size));
        }
        const out = readAll(new ChunkReader(), splitAt(Buffer.concat(parts), cuts));
        assert.deepStrictEqual(plain(out.slice(1)), msgs);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes only ever throw ParseError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), (parts) => {
        const reader = new ChunkReader({ maxMessageBytes: 1 << 16, maxPendingBytes: 1 << 18 });
        try {
          for (const p of parts) reader.feed(Buffer.from(p));
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated valid input only ever throws ParseError', () => {
    fc.assert(
      fc.property(messagesArb(200), options, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (msgs, opt, edits) => {
        const bytes = Buffer.from(encodeChunks(msgs, 128, opt));
        if (bytes.length === 0) return;
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        const reader = new ChunkReader({ maxMessageBytes: 1 << 16, maxPendingBytes: 1 << 18 });
        try {
          reader.feed(bytes);
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('ChunkReader head-only mode (load clients)', () => {
  const options = fc.record({ chunkSize: fc.integer({ min: 1, max: 300 }), compress: fc.boolean(), repeatExtended: fc.boolean(), head: fc.integer({ min: 1, max: 5 }) });
  const isMedia = (m: TestMessage): boolean => m.typeId === 8 || m.typeId === 9;

  it('gives every message the full reader gives, media cut to their first bytes, however the bytes are split', () => {
    fc.assert(
      fc.property(messagesArb(), options, fc.array(fc.nat(), { maxLength: 10 }), (msgs, opt, cuts) => {
        const setSize = { chunkStreamId: 2, typeId: 1, streamId: 0, timestamp: 0, body: Buffer.alloc(4) };
        setSize.body.writeUInt32BE(opt.chunkSize);
        const trailer = { chunkStreamId: 9, typeId: 20, streamId: 0, timestamp: 0, body: Buffer.from('trailer!') };
        const bytes = Buffer.concat([encodeChunks([setSize], 128), encodeChunks([...msgs, trailer], opt.chunkSize, opt)]);
        const reader = new ChunkReader({ mediaHeadBytes: opt.head });
        // Copy each body at once: a head may be a view of the input, valid until the next feed.
        const out = splitAt(bytes, cuts).flatMap((part) => plain(reader.feed(part)));
        const want = [...msgs, trailer].map((m) => (isMedia(m) ? { ...m, body: m.body.subarray(0, opt.head) } : m));
        assert.deepStrictEqual(out.slice(1), want);
        assert.equal(reader.bytesIn, bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('copies no media payload: a 4 MB video message costs no buffer of its size, and its head is a view of the input', () => {
    const body = Buffer.alloc(4 * 1024 * 1024, 7);
    body[0] = 0x17;
    body[1] = 0x01;
    const wire = Buffer.concat(chunkMessage({ chunkStreamId: 6, typeId: 9, streamId: 1, timestamp: 40, body: [body] }, 128));
    const reader = new ChunkReader({ mediaHeadBytes: 2, maxMessageBytes: 8 * 1024 * 1024 });
    const before = process.memoryUsage().arrayBuffers;
    const [message, ...rest] = reader.feed(wire);
    assert.equal(rest.length, 0);
    assert.deepEqual([...message!.body], [0x17, 0x01]);
    assert.equal(message!.body.buffer, wire.buffer, 'the head is a view of the bytes read');
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'no copy of the payload');
  });

  it('random bytes only ever throw ParseError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), (parts) => {
        const reader = new ChunkReader({ maxMessageBytes: 1 << 16, maxPendingBytes: 1 << 18, mediaHeadBytes: 2 });
        try {
          for (const p of parts) reader.feed(Buffer.from(p));
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('ChunkReader media slabs (outside the budget)', () => {
  /** Media messages of varied sizes, some over the 32 KiB a slab takes, interleaved with commands. */
  const mediaArb = fc.array(
    fc.record({
      chunkStreamId: fc.constantFrom(4, 6),
      typeId: fc.constantFrom(8, 9, 9, 20),
      size: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 4000, max: 40_000 })),
      fill: fc.integer({ min: 0, max: 255 }),
    }),
    { minLength: 1, maxLength: 60 },
  );

  it('never writes a handed-out body again: bodies kept (as the GOP cache keeps frames) keep their bytes while more input comes', () => {
    fc.assert(
      fc.property(mediaArb, fc.integer({ min: 128, max: 8192 }), fc.array(fc.nat(), { maxLength: 30 }), (items, chunkSize, cuts) => {
        const msgs = items.map((m, i) => ({ chunkStreamId: m.chunkStreamId, typeId: m.typeId, streamId: 1, timestamp: i * 20, body: Buffer.alloc(m.size, m.fill) }));
        const setSize = { chunkStreamId: 2, typeId: 1, streamId: 0, timestamp: 0, body: Buffer.alloc(4) };
        setSize.body.writeUInt32BE(chunkSize);
        const bytes = Buffer.concat([encodeChunks([setSize], 128), encodeChunks(msgs, chunkSize, { compress: true })]);
        const reader = new ChunkReader();
        const kept: { body: Buffer; copy: Buffer }[] = [];
        for (const part of splitAt(bytes, cuts)) {
          // The input is a reused read buffer: scribble over it after each feed.
          const input = Buffer.from(part);
          for (const m of reader.feed(input)) kept.push({ body: m.body, copy: Buffer.from(m.body) });
          input.fill(0xee);
        }
        assert.equal(kept.length, msgs.length + 1);
        for (const [i, { body, copy }] of kept.entries()) assert.ok(body.equals(copy), `body ${i} changed after it was handed out`);
        assert.deepEqual(
          kept.slice(1).map((k) => k.body),
          msgs.map((m) => m.body),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('carves small media bodies from one shared slab, gives large ones their own buffer, and keeps the budget path per message', () => {
    const sizes = [300, 9000, 300, 40_000, 9000];
    const msgs = sizes.map((size, i) => ({ chunkStreamId: 6, typeId: 9, streamId: 1, timestamp: i * 40, body: Buffer.alloc(size, i + 1) }));
    const wire = Buffer.concat(msgs.flatMap((m) => chunkMessage({ ...m, body: [m.body] }, 128)));
    const out = new ChunkReader().feed(wire);
    const [a, b, c, large, d] = out.map((m) => m.body);
    assert.ok(a!.buffer === b!.buffer && b!.buffer === c!.buffer && c!.buffer === d!.buffer, 'small bodies share a slab');
    assert.ok(large!.buffer !== a!.buffer && large!.byteOffset === 0 && large!.buffer.byteLength === 40_000, 'a large body has its own buffer');
    const budget = new ByteBudget('test', 1 << 20);
    const budgeted = new ChunkReader({ budget }).feed(wire).map((m) => m.body);
    assert.notEqual(budgeted[1]!.buffer, budgeted[4]!.buffer, 'inside the budget every frame-sized body is its own allocation');
    assert.deepEqual(
      budgeted,
      msgs.map((m) => m.body),
    );
    assert.equal(budget.used, 0, 'the budget is given back once the messages complete');
  });
});

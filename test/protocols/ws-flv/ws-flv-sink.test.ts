import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';

// ws ships its frame parser (Receiver) without types: a Writable that emits 'message'.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Receiver } = require('ws') as { Receiver: new (options: object) => Writable & EventEmitter };
import { WsFrameCache, binaryFrameHeader } from '../../../src/protocols/ws-flv/ws-flv-sink';

/** Our frame headers, parsed by the ws package's own receiver (the client side of the wire). */
for (const length of [0, 1, 125, 126, 65_535, 65_536, 300_000]) {
  test(`a ${length}-byte binary frame is read back whole by ws's receiver`, { timeout: 5000 }, async () => {
    const payload = Buffer.alloc(length, 7);
    const receiver = new Receiver({ isServer: false, binaryType: 'nodebuffer' });
    const got = new Promise<Buffer>((resolve) =>
      receiver.on('message', (data: Buffer, isBinary: boolean) => {
        assert.equal(isBinary, true);
        resolve(data);
      }),
    );
    receiver.write(Buffer.concat([binaryFrameHeader(length), payload]));
    assert.deepEqual(await got, payload);
  });
}

test('WsFrameCache frames each tag once and hands every viewer the same Buffer', () => {
  const cache = new WsFrameCache();
  const tag = Buffer.alloc(200, 1);
  const first = cache.frame(tag);
  assert.equal(cache.frame(tag), first);
  assert.deepEqual(first.subarray(0, 4), binaryFrameHeader(200));
  assert.deepEqual(first.subarray(4), tag);
  assert.notEqual(cache.frame(Buffer.alloc(200, 1)), first, 'a new tag is a new frame');
});

test('WsFrameCache keeps every tag of a GOP framed: a second joiner replaying it gets the same Buffers', () => {
  const cache = new WsFrameCache();
  const gop = [Buffer.alloc(300, 1), Buffer.alloc(20, 2), Buffer.alloc(300, 3)];
  const first = gop.map((tag) => cache.frame(tag));
  cache.frame(Buffer.alloc(10, 4)); // a live frame between the two joins
  const second = gop.map((tag) => cache.frame(tag));
  second.forEach((frame, i) => assert.equal(frame, first[i], `tag ${i}: the same Buffer, not framed again`));
});

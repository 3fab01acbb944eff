import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TsChunk } from '../../../src/formats/mpegts';
import { TsViewerWriter } from '../../../src/protocols/http-ts/ts-viewer';

function chunk(n: number, randomAccess: boolean): TsChunk {
  return { data: Buffer.from([n]), randomAccess, dts: n * 3600, video: true, discontinuity: false, receivedAt: 0 };
}

test('the writer holds the replayed cache until open(), then writes it first', () => {
  const written: number[] = [];
  const writer = new TsViewerWriter(
    () => 0,
    1000,
    () => undefined,
  );
  writer.onChunk(chunk(1, true));
  writer.onChunk(chunk(2, false));
  assert.equal(written.length, 0);
  writer.open((data) => written.push(data[0]!));
  writer.onChunk(chunk(3, false));
  assert.deepEqual(written, [1, 2, 3]);
  assert.equal(writer.bytesOut, 3);
});

test('a viewer over its backlog bound skips to the next random access point once drained', () => {
  let backlog = 0;
  const written: number[] = [];
  const writer = new TsViewerWriter(
    () => backlog,
    100,
    () => undefined,
  );
  writer.open((data) => written.push(data[0]!));
  writer.onChunk(chunk(1, true));
  backlog = 500;
  writer.onChunk(chunk(2, false));
  writer.onChunk(chunk(3, true)); // still lagging: dropped too
  backlog = 0;
  writer.onChunk(chunk(4, false)); // drained, but not a start point
  writer.onChunk(chunk(5, true));
  writer.onChunk(chunk(6, false));
  assert.deepEqual(written, [1, 5, 6]);
  assert.equal(writer.chunksDropped, 3);
});

test('a viewer that stays behind longer than maxLagMs is ended; catching up in time resets the clock', () => {
  let now = 0;
  let backlog = 500;
  let ended = '';
  const writer = new TsViewerWriter(
    () => backlog,
    100,
    (reason) => (ended = reason),
    1000,
    () => now,
  );
  writer.open(() => undefined);
  const chunk = { data: Buffer.alloc(188), randomAccess: true, dts: 0, video: true, discontinuity: false, receivedAt: 0 };
  writer.onChunk(chunk);
  now = 900;
  writer.onChunk(chunk);
  backlog = 0;
  writer.onChunk(chunk);
  backlog = 500;
  now = 1500;
  writer.onChunk(chunk);
  now = 2400;
  writer.onChunk(chunk);
  assert.equal(ended, '', 'behind for 900 ms at most each time');
  now = 2600;
  writer.onChunk(chunk);
  assert.match(ended, /viewer too slow/);
});

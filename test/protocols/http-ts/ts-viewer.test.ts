import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TsChunk } from '../../../src/formats/mpegts';
import { TsViewerSink, TsViewerWriter } from '../../../src/protocols/http-ts/ts-viewer';

function chunk(n: number, randomAccess: boolean): TsChunk {
  return { data: Buffer.from([n]), randomAccess, dts: n * 3600, video: true, discontinuity: false, receivedAt: 0 };
}

test('the writer holds the replayed cache until open(), then writes it first', () => {
  const written: number[] = [];
  const writer = new TsViewerWriter(() => 0, 1000, () => undefined);
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
  const writer = new TsViewerWriter(() => backlog, 100, () => undefined);
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

test('the viewer sink reports its protocol, backlog and bytes, and ends the viewer when the hub ends it', () => {
  let ended = '';
  const sink = new TsViewerSink('ws-ts', '1.2.3.4:5', () => 42, () => 7, (reason) => (ended = reason));
  assert.deepEqual(sink.describe(), { protocol: 'ws-ts', remote: '1.2.3.4:5', bytesOut: 7 });
  assert.equal(sink.pendingBytes(), 42);
  sink.onEnd('viewer too slow');
  assert.equal(ended, 'viewer too slow');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startTestGateway, waitFor } from '../helpers/gateway';
import { H264_TEST_TRACK, TestSource, videoFrame } from '../helpers/hub-fixtures';

function openViewer(port: number, path: string, read: boolean): { socket: Socket; bytes: () => number; maxGapMs: () => number; closed: () => boolean } {
  const socket = connect(port, '127.0.0.1');
  let bytes = 0;
  let last = 0;
  let maxGap = 0;
  let closed = false;
  socket.on('connect', () => {
    socket.write(`GET /${path}.flv HTTP/1.1\r\nHost: x\r\n\r\n`);
    if (!read) socket.pause();
  });
  socket.on('data', (chunk: Buffer) => {
    const now = performance.now();
    if (last) maxGap = Math.max(maxGap, now - last);
    last = now;
    bytes += chunk.length;
  });
  socket.on('close', () => (closed = true));
  socket.on('error', () => (closed = true));
  return { socket, bytes: () => bytes, maxGapMs: () => maxGap, closed: () => closed };
}

test('a viewer that stops reading does not stall another one, is cut off, and memory stays bounded', async () => {
  const gw = await startTestGateway({ GW_HUB_VIEWER_MAX_LAG: '2', GW_HUB_VIEWER_MAX_PENDING_BYTES: '1048576' });
  const publisher = gw.gateway.registry.publish('live/slow', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  let n = 0;
  // 100 kB frames at 25 fps: 20 Mbit/s, so a reader that stops fills every buffer in seconds.
  const timer = setInterval(() => {
    publisher.write(videoFrame(n * 3600, n % 25 === 0, 100_000));
    n++;
  }, 40);
  try {
    await waitFor(() => gw.gateway.registry.get('live/slow')?.ready, 5000, 'stream ready');
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const slow = openViewer(gw.ports.http, 'live/slow', false);
    const fast = openViewer(gw.ports.http, 'live/slow', true);
    await waitFor(() => gw.gateway.registry.get('live/slow')!.readers.total === 2, 5000, 'both viewers');
    await waitFor(() => gw.gateway.registry.get('live/slow')!.readers.total === 1, 15_000, 'the gateway to drop the viewer that never reads');
    const snapshot = gw.gateway.registry.get('live/slow')!;
    slow.socket.resume(); // it can only see the connection end once it reads again
    await waitFor(() => slow.closed(), 10_000, 'the slow viewer connection to be closed by the gateway');
    const bytesAtClose = fast.bytes();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(fast.bytes() - bytesAtClose > 1_500_000, 'the reading viewer keeps receiving at full rate');
    assert.ok(fast.maxGapMs() < 1000, `the reading viewer never waited more than 1 s (max gap ${Math.round(fast.maxGapMs())} ms)`);
    assert.ok(snapshot.framesDropped > 0, 'the slow viewer skipped frames before it was closed');
    const growth = process.memoryUsage().rss - rssBefore;
    assert.ok(growth < 80 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1048576)} MB`);
    fast.socket.destroy();
  } finally {
    clearInterval(timer);
    publisher.end('test done');
    await gw.stop();
  }
});

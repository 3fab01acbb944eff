import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor } from '../helpers/gateway';
import { makeTestFlv, readFlvFrames, startFlvFileSource } from '../helpers/flv-file-source';
import { tsIntegrity } from '../formats/mpegts/helpers';
import { followHls } from '../protocols/hls/hls-client';

test('an on-demand source watched only over HLS stays up while the viewer asks and stops after it goes away', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-hls-demand-'));
  const gw = await startTestGateway({ GW_HUB_CLOSE_AFTER: '1', GW_HLS_CLOSE_AFTER: '2' });
  try {
    const flv = join(dir, 'camera.flv');
    await makeTestFlv(flv, 4);
    const media = readFlvFrames(flv);
    const started: ReturnType<typeof startFlvFileSource>[] = [];
    gw.gateway.registry.registerOnDemand('cam/*', async (path) => {
      await new Promise((resolve) => setTimeout(resolve, 200)); // like an INVITE round trip
      const source = startFlvFileSource(gw.gateway.registry, path, media);
      started.push(source);
      return source;
    });
    let readersWhileWatching: Record<string, number> | undefined;
    // 8 s of watching: far longer than hub.closeAfter (1 s), so only the HLS session keeps it up.
    const followed = await followHls(`${gw.httpUrl}/cam/door/index.m3u8`, 8000, {
      onSegment: () => {
        readersWhileWatching ??= gw.gateway.registry.get('cam/door')?.readers.byProtocol;
      },
    });
    const leftAt = performance.now();
    assert.equal(started.length, 1, 'started once');
    assert.equal(started[0]!.stopped, false, 'still running right after the last request');
    assert.equal(readersWhileWatching?.hls, 1, JSON.stringify(readersWhileWatching));
    assert.ok(followed.segments.length >= 3, `${followed.segments.length} segments`);
    const integrity = tsIntegrity(Buffer.concat(followed.segments.map((s) => s.data)));
    assert.equal(integrity.continuityErrors, 0);
    assert.ok(integrity.firstVideoRandomAccess);
    await waitFor(() => started[0]!.stopped, 10_000, 'the source to stop after the HLS viewer left');
    const stoppedAfter = performance.now() - leftAt;
    assert.ok(stoppedAfter >= 1500, `stopped ${Math.round(stoppedAfter)} ms after the last request: not before hls.closeAfter`);
    await waitFor(() => gw.gateway.registry.list().length === 0, 3000, 'the stream to be gone');
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

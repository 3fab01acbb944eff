import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffprobeJson } from '../helpers/media-tools';
import { makeTestFlv, readFlvFrames, startFlvFileSource } from '../helpers/flv-file-source';

test('an on-demand source starts with the first viewer, once for two, and stops closeAfter after the last one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-demand-'));
  const gw = await startTestGateway({ GW_HUB_CLOSE_AFTER: '1' });
  try {
    const flv = join(dir, 'camera.flv');
    await makeTestFlv(flv);
    const media = readFlvFrames(flv);
    const started: ReturnType<typeof startFlvFileSource>[] = [];
    gw.gateway.registry.registerOnDemand('cam/*', async (path) => {
      await new Promise((resolve) => setTimeout(resolve, 200)); // like an INVITE round trip
      const source = startFlvFileSource(gw.gateway.registry, path, media);
      started.push(source);
      return source;
    });
    const [a, b] = await Promise.all([captureHttp(`${gw.httpUrl}/cam/door.flv`, join(dir, 'a.flv'), 2500), captureHttp(`${gw.httpUrl}/cam/door.flv`, join(dir, 'b.flv'), 2500)]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(started.length, 1, 'two viewers arriving together cause one start');
    const probe = await ffprobeJson(join(dir, 'a.flv'), ['-count_frames']);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    assert.equal(video?.codec_name, 'h264');
    assert.equal(video?.width, 320);
    assert.ok(Number(video?.nb_read_frames) >= 40, `decoded ${video?.nb_read_frames} frames`);
    assert.equal(probe.stderr.trim(), '');
    assert.equal(started[0]!.stopped, false, 'still running right after the viewers left');
    await waitFor(() => started[0]!.stopped, 4000, 'the source to stop after closeAfter');
    await waitFor(() => gw.gateway.registry.list().length === 0, 2000, 'the stream to be gone');
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a source that fails to start answers its viewers with 502 and the reason', async () => {
  const gw = await startTestGateway();
  const dir = mkdtempSync(join(tmpdir(), 'gw-demand-'));
  try {
    gw.gateway.registry.registerOnDemand('cam/*', async () => {
      throw new Error('device answered 488 Not Acceptable Here');
    });
    const result = await captureHttp(`${gw.httpUrl}/cam/broken.flv`, join(dir, 'x.flv'), 5000);
    assert.equal(result.status, 502);
    assert.match(result.body, /SOURCE_START_FAILED/);
    assert.match(result.body, /488/);
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

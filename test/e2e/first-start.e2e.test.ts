import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/gateway';
import { spawnGatewayChild, type GatewayChild } from '../helpers/gateway-child';
import { ffmpegPath, ffprobeJson, startTool } from '../helpers/media-tools';
import { testPatternArgs } from '../helpers/publisher';

/** The gateway with no secret configured, every port chosen by the OS. */
function startMain(dir: string): GatewayChild {
  return spawnGatewayChild({ GW_STORAGE_DIR: dir, GW_LOG_PRETTY: 'no', GW_LOG_LEVEL: 'debug' });
}

test('first start: secrets generated (mode 0600) and printed once; the printed publish and play commands bring a picture', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-first-'));
  const run = startMain(dir);
  let publisher: ReturnType<typeof startTool> | undefined;
  try {
    const ports = await run.ports();
    const notice = await waitFor(() => (run.err().includes('sip.password') ? run.err() : undefined), 5000, 'the first-start notice');
    const file = join(dir, 'secrets.json');
    assert.ok(notice.includes(file), 'it says where the secrets are');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { secret: string; publishKey: string; sipPassword: string };
    for (const value of Object.values(stored).slice(0, 3)) assert.ok(notice.includes(value), 'and prints them once');
    // The publish command as printed (its URL), with a smaller picture.
    const publishUrl = /'(rtmp:\/\/[^']+\?key=[^']+)'/.exec(notice)?.[1];
    assert.equal(publishUrl, `rtmp://127.0.0.1:${ports.rtmp}/live/cam1?key=${stored.publishKey}`);
    publisher = startTool(ffmpegPath, testPatternArgs(publishUrl!, { size: '320x240', gop: 25, audio: false }));
    // The play command as printed: POST /api/auth/sign with the bearer, then the flv URL it answers.
    const bearer = /Authorization: Bearer ([^']+)'/.exec(notice)?.[1];
    assert.equal(bearer, stored.secret);
    const unsigned = await fetch(`http://127.0.0.1:${ports.http}/live/cam1.flv`);
    assert.equal(unsigned.status, 401, 'camera video is private by default');
    await unsigned.body?.cancel();
    const sign = await fetch(`http://127.0.0.1:${ports.http}/api/auth/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'live/cam1' }),
    });
    assert.equal(sign.status, 200);
    const { urls } = (await sign.json()) as { urls: { flv: string } };
    const probe = await ffprobeJson(urls.flv, [], 20_000);
    assert.equal(probe.code, 0, `${probe.stderr} (publisher: ${publisher.stderr()})`);
    assert.equal(probe.streams[0]?.codec_name, 'h264');
    assert.equal(probe.streams[0]?.width, 320);
    await publisher.stop();
    await run.stop();
    for (const value of Object.values(stored).slice(0, 3)) assert.ok(!run.out().includes(value), 'the log (stdout) never carries a secret');

    const again = startMain(dir);
    try {
      await again.ports();
      await waitFor(() => again.err().includes('secrets in'), 5000, 'the second-start line');
      assert.ok(again.err().includes(file));
      for (const value of Object.values(stored).slice(0, 3)) assert.ok(!again.err().includes(value), 'printed only at the first start');
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), stored, 'the same secrets');
    } finally {
      await again.stop();
    }
  } finally {
    await publisher?.stop();
    await run.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

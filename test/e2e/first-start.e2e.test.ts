import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, waitFor } from '../helpers/gateway';
import { ffmpegPath, ffprobeJson, startTool } from '../helpers/media-tools';
import { LOOPBACK_LISTENERS } from '../helpers/loopback-env';
import { testPatternArgs } from '../helpers/publisher';

const MAIN = join(PROJECT_ROOT, 'dist', 'src', 'app', 'main.js');

/** `node dist/src/app/main.js` with no secret configured, every port chosen by the OS. */
function startMain(dir: string) {
  const env = {
    ...process.env,
    ...LOOPBACK_LISTENERS,
    GW_STORAGE_DIR: dir,
    GW_LOG_PRETTY: 'no',
    GW_LOG_LEVEL: 'debug',
  };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    out: () => stdout,
    err: () => stderr,
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function listening(run: ReturnType<typeof startMain>): Promise<{ http: number; rtmp: number }> {
  const line = await waitFor(
    () =>
      run
        .out()
        .split('\n')
        .find((l) => l.includes('gateway listening')),
    20_000,
    'the listening log line',
  );
  return (JSON.parse(line) as { ports: { http: number; rtmp: number } }).ports;
}

test('first start: secrets generated (mode 0600) and printed once; the printed publish and play commands bring a picture', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-first-'));
  const run = startMain(dir);
  let publisher: ReturnType<typeof startTool> | undefined;
  try {
    const ports = await listening(run);
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
      await listening(again);
      await waitFor(() => again.err().includes('secrets in'), 5000, 'the second-start line');
      assert.ok(again.err().includes(file));
      for (const value of Object.values(stored).slice(0, 3)) assert.ok(!again.err().includes(value), 'printed only at the first start');
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), stored, 'the same secrets');
    } finally {
      await again.stop();
    }
  } finally {
    await publisher?.stop();
    run.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

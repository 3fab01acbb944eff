import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { listRecordings } from '../helpers/recordings';

/**
 * Disk full on a real filesystem: a 6 MB tmpfs mounted by the test (root, as CI runs), and
 * record.maxBytes on an ordinary one, side by side.
 */
const mountPoint = mkdtempSync(join(tmpdir(), 'gw-tmpfs-'));
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

type Active = { recorders: { path: string; lastError: string | null; state: string; bytes: number }[] };
async function active(gw: TestGateway, path: string): Promise<Active['recorders'][number] | undefined> {
  const body = (await (await fetch(`${gw.httpUrl}/api/record/active`, { headers: gw.authHeaders })).json()) as Active;
  return body.recorders.find((r) => r.path === path);
}

/** Reads an HTTP-FLV viewer in the background; `bytes()` is what it got so far. */
function viewer(gw: TestGateway, path: string): { bytes: () => number; stop: () => void } {
  const abort = new AbortController();
  let bytes = 0;
  void (async () => {
    const res = await fetch(`${gw.httpUrl}/${path}.flv`, { signal: abort.signal });
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
  })().catch(() => undefined);
  return { bytes: () => bytes, stop: () => abort.abort() };
}

async function tmpfsCase(): Promise<void> {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mountPoint]);
  cleanups.push(() => {
    execFileSync('umount', ['-l', mountPoint]);
  });
  const gw = await startTestGateway({
    GW_RECORD_DIR: mountPoint,
    GW_RECORD_SEGMENT_SECONDS: '2',
    GW_RECORD_MIN_FREE_BYTES: String(2 * 1024 * 1024),
    GW_RECORD_RETRY: '1',
    GW_RECORD_PLANS: JSON.stringify([{ id: 'disk', streams: 'live/disk', formats: 'flv' }]),
  });
  cleanups.push(() => gw.stop());
  const publisher = await publishTestPattern(gw, 'live/disk', { bitrate: '1500k', gop: 25 });
  cleanups.push(() => publisher.stop());
  const watch = viewer(gw, 'live/disk');
  cleanups.push(() => watch.stop());
  // The guard keeps 2 MB free by deleting the oldest closed segments while recording goes on.
  const firstId = await waitFor(async () => (await listRecordings(gw, 'live/disk')).recordings[0]?.id, 15_000, 'a first segment');
  await waitFor(
    async () => {
      const { recordings } = await listRecordings(gw, 'live/disk');
      return !recordings.some((r) => r.id === firstId) && recordings.length >= 3 && recordings;
    },
    40_000,
    'the oldest segment to be deleted for space',
  );
  assert.ok(freeBytes(mountPoint) >= 2 * 1024 * 1024 - 700 * 1024, `free ${freeBytes(mountPoint)} stays near minFreeBytes`);
  assert.equal((await active(gw, 'live/disk'))?.lastError, null, 'no error while there is something to delete');

  // Fill the disk with a file that is not a recording, again each time the guard freed room,
  // until nothing closed is left to delete: then the open segment meets ENOSPC.
  const ballast = join(mountPoint, 'ballast');
  const fill = (): void => {
    const fd = openSync(ballast, 'a');
    try {
      const block = Buffer.alloc(16 * 1024, 1);
      for (;;) writeSync(fd, block);
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }
  };
  for (let i = 0; i < 15 && !(await active(gw, 'live/disk'))?.lastError; i++) {
    fill();
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const failed = await waitFor(
    async () => {
      const r = await active(gw, 'live/disk');
      return r?.lastError?.startsWith('ENOSPC') && r;
    },
    20_000,
    'the recorder to report ENOSPC',
  );
  assert.match(failed.lastError!, /ENOSPC/);
  const before = watch.bytes();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.ok(watch.bytes() > before + 100_000, `the live viewer keeps playing (${watch.bytes() - before} bytes in 2 s)`);
  assert.ok(gw.gateway.registry.get('live/disk')?.ready, 'the stream is untouched');

  // Space again: the recorder retries and records.
  rmSync(ballast);
  const count = (await listRecordings(gw, 'live/disk')).total;
  await waitFor(async () => (await listRecordings(gw, 'live/disk')).total > count + 1, 20_000, 'recording to resume after the disk has room');
}

async function maxBytesCase(): Promise<void> {
  const maxBytes = 1024 * 1024;
  const gw = await startTestGateway({
    GW_RECORD_SEGMENT_SECONDS: '2',
    GW_RECORD_MAX_BYTES: String(maxBytes),
    GW_RECORD_PLANS: JSON.stringify([{ id: 'cap', streams: 'live/cap', formats: 'flv,ts' }]),
  });
  cleanups.push(() => gw.stop());
  const publisher = await publishTestPattern(gw, 'live/cap', { bitrate: '1000k', gop: 25, size: '320x240' });
  cleanups.push(() => publisher.stop());
  const firstId = await waitFor(async () => (await listRecordings(gw, 'live/cap')).recordings[0]?.id, 15_000, 'a first segment');
  const kept = await waitFor(
    async () => {
      const { recordings } = await listRecordings(gw, 'live/cap');
      return !recordings.some((r) => r.id === firstId) && recordings.length >= 2 && recordings;
    },
    40_000,
    'the oldest segment to be deleted for record.maxBytes',
  );
  const total = kept.reduce((n, r) => n + r.bytes, 0);
  // At most the cap plus what the two open segments wrote since the last guard check.
  assert.ok(total <= maxBytes + 800 * 1024, `recordings total ${total} bytes with maxBytes ${maxBytes}`);
  assert.ok(kept.every((r) => r.status === 'complete' || r.status === 'recording'));
}

test('disk guard: a full tmpfs deletes oldest segments, then ENOSPC stops the recorder (viewers keep playing) and it retries; record.maxBytes', async () => {
  const results = await Promise.allSettled([tmpfsCase(), maxBytesCase()]);
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${['tmpfs', 'maxBytes'][i]}: ${(r.reason as Error).stack ?? String(r.reason)}`] : []));
  assert.deepEqual(failures, []);
});

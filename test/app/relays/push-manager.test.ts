import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PushManager, pathMatches, pushSettingsFrom, targetUrl } from '../../../src/app/relays/push-manager';
import { silentLogger } from '../../../src/core/log';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { loadConfig } from '../../../src/config/load';
import { DEFAULTS_FILE } from '../../helpers/gateway';
import { openDatabase } from '../../../storage/db';
import { PushRepo } from '../../../storage/repos/pushes';

describe('push rules', () => {
  test('a pattern matches name characters within its segment only', () => {
    assert.ok(pathMatches('live/*', 'live/cam1'));
    assert.ok(pathMatches('rtp/34020000001320000001_*', 'rtp/34020000001320000001_34020000001310000001'));
    assert.ok(!pathMatches('live/*', 'other/cam1'));
    assert.ok(!pathMatches('rtp/3402_*', 'rtp/9999_1'));
    assert.ok(pathMatches('live/cam1', 'live/cam1'));
    assert.ok(!pathMatches('live/cam.', 'live/camx'), 'a dot is literal');
  });

  test('the URL template takes the app and the stream', () => {
    assert.equal(targetUrl('rtmp://cdn/{app}/{stream}?k=1', 'live/cam1'), 'rtmp://cdn/live/cam1?k=1');
  });
});

test('a keepSource rule pushes only while its job is placed in this process, and ends its placement when removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pushes-'));
  const db = openDatabase(dir, silentLogger());
  const hub = new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger());
  const jobs: { path: string; start: () => () => void; ended: boolean }[] = [];
  const placement = {
    runJob: (path: string, start: () => () => void) => {
      const job = { path, start, ended: false };
      jobs.push(job);
      return () => void (job.ended = true);
    },
  };
  const manager = new PushManager({
    registry: hub,
    repo: new PushRepo(db),
    // Nothing listens there: the push keeps retrying, which is all this test needs.
    config: [{ path: 'live/a', url: 'rtmp://127.0.0.1:9/app/{stream}', keepSource: true, hevc: 'enhanced', allowSelfSigned: false }],
    settings: pushSettingsFrom(loadConfig({ defaultsFile: DEFAULTS_FILE }).relay),
    log: silentLogger(),
    placement,
  });
  try {
    manager.start();
    const pushes = () => manager.list()[0]!.pushes.length;
    assert.deepEqual(
      jobs.map((j) => j.path),
      ['live/a'],
    );
    assert.equal(pushes(), 0, 'not placed here yet: no push');
    const stop = jobs[0]!.start();
    assert.equal(pushes(), 1, 'placed here: it pushes (and keeps its source pulled)');
    stop();
    assert.equal(pushes(), 0, 'placed elsewhere: stopped here');
    jobs[0]!.start();
    assert.equal(pushes(), 1, 'placed here again');
    manager.close();
    assert.equal(jobs[0]!.ended, true, 'its placement ended with the rule');
  } finally {
    manager.close();
    await hub.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { RecordingLayout } from '../../../storage/recording/layout';

test('layout: names in the zone, collisions numbered, nothing outside record.dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-layout-'));
  try {
    const layout = new RecordingLayout(dir, 'Asia/Shanghai');
    const t = Date.UTC(2026, 0, 1, 17, 30, 5); // 2026-01-02 01:30:05 in Shanghai
    assert.equal(
      layout.newFile('live/cam1', 'flv', t, () => false),
      'live/cam1/2026-01-02/01-30-05.flv',
    );
    assert.equal(
      layout.newFile('live/cam1', 'hls', t, () => false),
      'live/cam1/2026-01-02/hls/01-30-05.ts',
    );
    assert.equal(
      layout.newFile('live/cam1', 'ts', t, (f) => f.endsWith('01-30-05.ts')),
      'live/cam1/2026-01-02/01-30-05-1.ts',
    );
    mkdirSync(join(dir, 'live/cam1/2026-01-02'), { recursive: true });
    writeFileSync(join(dir, 'live/cam1/2026-01-02/01-30-05.flv'), '');
    assert.equal(
      layout.newFile('live/cam1', 'flv', t, () => false),
      'live/cam1/2026-01-02/01-30-05-1.flv',
      'a file on disk counts as taken',
    );
    for (const bad of ['../x.flv', '/etc/passwd', 'live/../../x', 'a\0b', '', '.']) assert.throws(() => layout.inside(bad), /record\.dir|relative/, bad);
    for (const bad of ['../cam', 'live/..', 'a/b/c', 'live']) assert.throws(() => layout.folder(bad, 'flv', t), /invalid stream path/, bad);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (name) => {
        try {
          const absolute = layout.inside(name);
          assert.ok(absolute.startsWith(`${layout.root}/`), `${name} -> ${absolute}`);
        } catch (err) {
          assert.match((err as Error).message, /record\.dir|relative/);
        }
      }),
      { numRuns: 500 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative, isAbsolute } from 'node:path';
import fc from 'fast-check';
import { isValidStreamPath } from '../../src/hub/path';

const BASE = '/var/lib/gateway/record';

test('property: a stream path from the wire that is accepted never leaves its folder as a file path', () => {
  const wireChars = fc.constantFrom(...'abcXYZ019_.-/\\%:~ \u0000'.split(''));
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: wireChars, maxLength: 40 })), (path) => {
      if (!isValidStreamPath(path)) return;
      const [app, stream] = path.split('/') as [string, string];
      const file = join(BASE, app, stream, '2026-03-01', '08-00-00.flv');
      const rel = relative(BASE, file);
      assert.ok(rel.split('/')[0] !== '..' && !isAbsolute(rel), `${path} -> ${file}`);
      assert.equal(rel.split('/').length, 4, 'exactly app/stream/day/file');
    }),
    { numRuns: 5000 },
  );
});

test('traversal spellings are refused', () => {
  for (const path of ['../etc', 'live/..', '../..', 'live/../x', 'live/a/b', '/etc/passwd', 'live/', '/live', 'live\\..\\x', 'live/a%2F..', '.', 'live/.', 'a/b\u0000']) {
    assert.equal(isValidStreamPath(path), false, path);
  }
  assert.equal(isValidStreamPath('live/cam.1'), true);
});

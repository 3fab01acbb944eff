import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/core/errors';
import { parseRtspUrl, redactUrl, resolveControl } from '../../../src/protocols/rtsp/url';

test('parses host, port and credentials; the href has no credentials', () => {
  assert.deepEqual(parseRtspUrl('rtsp://cam.local/Streaming/Channels/101'), { href: 'rtsp://cam.local/Streaming/Channels/101', host: 'cam.local', port: 554 });
  assert.deepEqual(parseRtspUrl('rtsp://admin:p%40ss@10.0.0.2:8554/live?ch=1'), {
    href: 'rtsp://10.0.0.2:8554/live?ch=1',
    host: '10.0.0.2',
    port: 8554,
    credentials: { username: 'admin', password: 'p@ss' },
  });
  // An unescaped @ in the password: the last @ separates.
  assert.deepEqual(parseRtspUrl('rtsp://admin:a@b@10.0.0.2/x').credentials, { username: 'admin', password: 'a@b' });
  assert.equal(parseRtspUrl('rtsp://[::1]:554').host, '::1');
  assert.equal(parseRtspUrl('RTSP://cam').href, 'rtsp://cam/');
});

test('refuses what is not an rtsp URL', () => {
  for (const bad of ['http://cam/', 'rtsp://', 'rtsp://cam:0/', 'rtsp://cam:99999/', 'rtsp://cam /x', 'rtsp://ca\nm/']) {
    assert.throws(() => parseRtspUrl(bad), GatewayError, bad);
  }
});

test('redacts passwords', () => {
  assert.equal(redactUrl('rtsp://admin:secret@cam/x'), 'rtsp://admin:***@cam/x');
  assert.equal(redactUrl('rtsp://cam/x'), 'rtsp://cam/x');
});

test('resolves control URLs the way cameras expect', () => {
  assert.equal(resolveControl('rtsp://cam/live', 'trackID=1'), 'rtsp://cam/live/trackID=1');
  assert.equal(resolveControl('rtsp://cam/live/', 'trackID=1'), 'rtsp://cam/live/trackID=1');
  assert.equal(resolveControl('rtsp://cam/live', 'rtsp://other/track'), 'rtsp://other/track');
  assert.equal(resolveControl('rtsp://cam:554/live', '/abs/track1'), 'rtsp://cam:554/abs/track1');
  assert.equal(resolveControl('rtsp://cam/live', '*'), 'rtsp://cam/live');
  assert.equal(resolveControl('rtsp://cam/live', undefined), 'rtsp://cam/live');
});

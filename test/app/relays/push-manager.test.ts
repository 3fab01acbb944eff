import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pathMatches, targetUrl } from '../../../src/app/relays/push-manager';

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

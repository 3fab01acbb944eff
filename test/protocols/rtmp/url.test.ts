import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { maskRtmpUrl, parseRtmpUrl } from '../../../src/protocols/rtmp/url';

describe('RTMP URLs', () => {
  test('app, stream with its query, tcUrl and default ports', () => {
    assert.deepEqual(parseRtmpUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh?x=1'), {
      secure: false,
      host: 'a.rtmp.youtube.com',
      port: 1935,
      app: 'live2',
      stream: 'abcd-efgh?x=1',
      tcUrl: 'rtmp://a.rtmp.youtube.com/live2',
    });
    const tls = parseRtmpUrl('rtmps://live-api-s.facebook.com:443/rtmp/FB-123');
    assert.deepEqual([tls.secure, tls.port, tls.app, tls.stream], [true, 443, 'rtmp', 'FB-123']);
    assert.equal(parseRtmpUrl('rtmps://cdn.test/app/a/b').stream, 'a/b');
    assert.equal(parseRtmpUrl('rtmp://[::1]:1940/live/x').host, '::1');
  });

  test('refusals say what is missing', () => {
    assert.throws(() => parseRtmpUrl('rtmp://host/app'), /app and a stream name/);
    assert.throws(() => parseRtmpUrl('http://host/app/x'), /unsupported scheme/);
    assert.throws(() => parseRtmpUrl('not a url'), /not a URL/);
  });

  test('masking hides the stream key, query values and the password', () => {
    assert.equal(maskRtmpUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl'), 'rtmp://a.rtmp.youtube.com/live2/ab***');
    assert.equal(maskRtmpUrl('rtmp://u:pw@cdn/live/cam1?key=secret'), 'rtmp://u:***@cdn/live/***?key=***');
    assert.equal(maskRtmpUrl('rtmp://cdn/live/abc'), 'rtmp://cdn/live/***');
    assert.ok(!maskRtmpUrl('rtmps://cdn/app/SECRETKEY?token=SECRET').includes('SECRET'));
  });
});

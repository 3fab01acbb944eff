import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError, errorBody, httpStatusOf, type ErrorCode } from '../../src/core/errors';
import { wsCloseCodeOf } from '../../src/protocols/shared/sockets';

const CASES: [ErrorCode, number, number][] = [
  ['UNAUTHORIZED', 401, 4401],
  ['FORBIDDEN', 403, 4403],
  ['UNAVAILABLE', 503, 1013],
  ['STREAM_NOT_FOUND', 404, 4404],
  ['PROXY_NOT_FOUND', 404, 4404],
  ['DEVICE_NOT_FOUND', 404, 4404],
  ['DEVICE_OFFLINE', 409, 4409],
  ['URI_TOO_LONG', 414, 4414],
  ['HEADERS_TOO_LARGE', 431, 4431],
  ['SOURCE_START_FAILED', 502, 4502],
];

test('each error code has its HTTP status, WebSocket close code and {code, message} body', () => {
  for (const [code, status, ws] of CASES) {
    const err = new GatewayError(code, `because ${code}`);
    assert.equal(httpStatusOf(err), status, code);
    assert.equal(wsCloseCodeOf(err), ws, code);
    assert.deepEqual(errorBody(err), { code, message: `because ${code}` });
  }
  assert.equal(httpStatusOf(new Error('x')), 500);
  assert.deepEqual(errorBody(new Error('x')), { code: 'INTERNAL', message: 'x' });
});

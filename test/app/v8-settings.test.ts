import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';
import { GatewayError } from '../../src/core/errors';
import { v8Flags } from '../../src/app/v8-settings';

const defaultsFile = join(__dirname, '..', '..', '..', 'conf', 'default.yaml');

test('the default config asks V8 for a heap growing factor of 3; 0 leaves it to V8', () => {
  const config = loadConfig({ defaultsFile, env: {} });
  assert.deepEqual(v8Flags(config.v8), ['--heap-growing-percent=200']);
  assert.deepEqual(v8Flags(loadConfig({ defaultsFile, env: { GW_V8_HEAP_GROWING_PERCENT: '0' } }).v8), []);
  assert.throws(
    () => loadConfig({ defaultsFile, env: { GW_V8_HEAP_GROWING_PERCENT: '5000' } }),
    (err: unknown) => err instanceof GatewayError && /v8\.heapGrowingPercent/.test(err.message),
  );
});

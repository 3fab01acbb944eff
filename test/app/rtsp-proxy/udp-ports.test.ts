import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { PortPool } from '../../../rtp/net/port-pool';
import { poolAllocator } from '../../../src/app/rtsp-proxy/udp-ports';
import { RtspError } from '../../../src/protocols/rtsp/errors';

test('pairs come from the pool, skip ports held elsewhere, and go back on release', async () => {
  const open: Socket[] = [];
  // A port some other socket holds: its pair is skipped.
  const probe = createSocket('udp4');
  open.push(probe);
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', () => resolve()));
  const held = probe.address().port;
  const base = held % 2 === 0 ? held : held - 1;
  // Two pairs: base (blocked by the probe) and base + 2.
  const pool = new PortPool(base, base + 3);
  const allocator = poolAllocator(pool);
  try {
    const pair = await allocator.bindPair('127.0.0.1');
    open.push(pair.rtp, pair.rtcp);
    assert.equal(pair.rtpPort, base + 2);
    assert.equal(pair.rtcp.address().port, base + 3);
    assert.equal(pool.inUse, 1);
    await assert.rejects(allocator.bindPair('127.0.0.1'), (err: unknown) => err instanceof RtspError && err.failure === 'transport' && /no free UDP port pair/.test(err.message));
    allocator.release!(pair);
    assert.equal(pool.inUse, 0);
  } finally {
    for (const socket of open) socket.close();
  }
});

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpServers } from '../../src/app/rtp-servers';
import { GatewayError } from '../../src/core/errors';
import { silentLogger } from '../../src/core/log';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../src/hub/registry';
import { PortPool } from '../../rtp/net/port-pool';
import { buildRtpPacket } from '../../rtp/packet';
import { waitFor } from '../helpers/gateway';

const dir = mkdtempSync(join(tmpdir(), 'gw-rtp-servers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An even port with a few free pairs above it (bound by the OS, then released). */
async function freeBase(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port - (port % 2);
}

test('receivers opened through the API keep to rtp.apiShare of the pool; the rest stays for GB28181', async () => {
  const registry = new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger());
  const base = await freeBase();
  const pool = new PortPool(base, base + 7);
  let refusals = 0;
  const servers = new RtpServers({
    registry,
    pool,
    host: '127.0.0.1',
    timeoutMs: 10_000,
    ssrcCheck: false,
    dumpDir: dir,
    log: silentLogger(),
    apiShare: 0.5,
    refused: () => refusals++,
  });
  try {
    await servers.open({ path: 'rtp/a', transport: 'udp' });
    await servers.open({ path: 'rtp/b', transport: 'udp' });
    await assert.rejects(
      servers.open({ path: 'rtp/c', transport: 'udp' }),
      (err: unknown) => err instanceof GatewayError && err.code === 'UNAVAILABLE' && /cap of 2 .*kept for GB28181/.test(err.message),
    );
    assert.equal(refusals, 1);
    assert.equal(pool.inUse, 2, 'half the pool is still free for GB28181 play');
    servers.close('rtp/a');
    await servers.open({ path: 'rtp/c', transport: 'udp' });
  } finally {
    servers.closeAll('test done');
    await registry.close();
  }
});

test('a dump stops at rtp.dumpMaxBytes', async () => {
  const registry = new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger());
  const dumps = join(dir, 'dumps');
  const servers = new RtpServers({ registry, host: '127.0.0.1', timeoutMs: 10_000, ssrcCheck: false, dumpDir: dumps, log: silentLogger(), dumpMaxBytes: 1024 * 1024 });
  const sender = createSocket('udp4');
  try {
    const { port } = await servers.open({ path: 'rtp/dump', transport: 'udp', dump: true });
    const payload = Buffer.alloc(1200, 0x47);
    for (let seq = 0; seq < 1500; seq++) {
      sender.send(buildRtpPacket({ payloadType: 96, sequence: seq, timestamp: seq * 3600, ssrc: 1, marker: false, payload }), port, '127.0.0.1');
      if (seq % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(() => (servers.list()[0]?.packets ?? 0) > 1000, 5000, 'the packets');
    servers.closeAll('test done');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [file] = readdirSync(dumps);
    const size = statSync(join(dumps, file!)).size;
    assert.ok(size <= 1024 * 1024 && size > 900 * 1024, `dump of ${size} bytes (1.8 MB were sent)`);
  } finally {
    sender.close();
    servers.closeAll('test done');
    await registry.close();
  }
});

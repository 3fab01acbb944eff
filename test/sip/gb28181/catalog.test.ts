import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogCollector, type CatalogResult } from '../../../sip/gb28181/catalog';
import type { GbCatalogItem } from '../../../src/core/gb28181';
import { waitFor } from '../../helpers/gateway';
import { makeChannels } from '../../helpers/gb-sim-manscdp';
import { DEVICE_ID, startServer } from './gb-fixture';

const item = (id: string): GbCatalogItem => ({ id, kind: 'device', online: true, raw: {} });

test('collector: parts by (device, SN) until SumNum; idle timeout gives a partial result', async () => {
  const results: CatalogResult[] = [];
  const collector = new CatalogCollector(200, (r) => results.push(r));
  const whole = collector.expect('d1', 5);
  collector.add('d1', 5, 3, [item('a'), item('b')]);
  collector.add('d2', 5, 1, [item('x')]);
  collector.add('d1', 5, 3, [item('b'), item('c')]);
  const done = await whole;
  assert.deepEqual(
    done.items.map((i) => i.id),
    ['a', 'b', 'c'],
  );
  assert.equal(done.complete, true);
  assert.equal(done.messages, 2);
  const partial = collector.expect('d1', 6);
  collector.add('d1', 6, 10, [item('a')]);
  const cut = await partial;
  assert.equal(cut.complete, false);
  assert.equal(cut.items.length, 1);
  await assert.rejects(collector.expect('d1', 7), /no Catalog answer/);
  assert.equal(collector.pending, 0);
  assert.deepEqual(
    results.map((r) => r.deviceId),
    ['d2', 'd1', 'd1'],
  );
});

test('several hundred channels over many GB2312 messages land in SQLite; a shorter catalog marks the rest gone', async () => {
  const f = await startServer();
  try {
    const channels = makeChannels(DEVICE_ID, 600);
    const sim = await f.simulator({ channels, catalogChunk: 25 });
    assert.equal((await sim.register())?.status, 200);
    await waitFor(() => (f.devices.get(DEVICE_ID)?.channelCount ?? 0) >= 600 || undefined, 15_000, '600 channels');
    const stored = f.channels.list({ deviceId: DEVICE_ID, count: 1000 });
    assert.equal(stored.total, 600);
    assert.equal(stored.items[0]!.name, '摄像机1号 东门');
    assert.equal(stored.items[0]!.address, '大楼 1 层');
    assert.equal(stored.items[3]!.online, false, 'Status OFF');
    assert.equal(f.devices.get(DEVICE_ID)?.name, '模拟摄像机', 'DeviceInfo stored');
    sim.options.channels = channels.slice(0, 590);
    const again = await f.server.refreshCatalog(DEVICE_ID);
    assert.equal(again.complete, true);
    assert.equal(again.messages, 24);
    assert.equal(f.channels.list({ deviceId: DEVICE_ID }).total, 590);
    assert.equal(f.channels.list({ deviceId: DEVICE_ID, includeGone: true, count: 1000 }).items.filter((c) => c.gone).length, 10);
    assert.equal(f.devices.get(DEVICE_ID)?.channelCount, 590);
  } finally {
    await f.close();
  }
});

test('civil codes and business groups are tree nodes; NOTIFY ADD/DEL/OFF change the catalog', async () => {
  const f = await startServer({ catalogSubscribeSec: 600 });
  try {
    const tree = [
      { id: '340200', name: '市' },
      { id: '34020000', name: '区' },
      { id: '34020000002150000001', name: '业务分组' },
      { id: '34020000002160000001', name: '虚拟组织', parentId: '34020000002150000001' },
      ...makeChannels(DEVICE_ID, 3),
    ];
    const sim = await f.simulator({ channels: tree });
    assert.equal((await sim.register())?.status, 200);
    await waitFor(() => f.channels.list({ deviceId: DEVICE_ID }).total === 7 || undefined, 5000, 'the tree');
    const kinds = Object.fromEntries(f.channels.list({ deviceId: DEVICE_ID }).items.map((c) => [c.id, c.kind]));
    assert.equal(kinds['340200'], 'civil');
    assert.equal(kinds['34020000'], 'civil');
    assert.equal(kinds['34020000002150000001'], 'group');
    assert.equal(kinds['34020000002160000001'], 'org');
    assert.equal(f.devices.get(DEVICE_ID)?.channelCount, 3, 'only channels count');
    await waitFor(() => sim.received.find((r) => r.method === 'SUBSCRIBE'), 3000, 'the catalog SUBSCRIBE');
    const notify = (event: string, id: string): string =>
      `<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Catalog</CmdType>\r\n<SN>9</SN>\r\n<DeviceID>${DEVICE_ID}</DeviceID>\r\n<SumNum>1</SumNum>\r\n<DeviceList Num="1">\r\n<Item>\r\n<DeviceID>${id}</DeviceID>\r\n<Name>新通道</Name>\r\n<Status>ON</Status>\r\n<Event>${event}</Event>\r\n</Item>\r\n</DeviceList>\r\n</Notify>\r\n`;
    const first = makeChannels(DEVICE_ID, 1)[0]!.id;
    assert.equal((await sim.sendManscdp('NOTIFY', notify('ADD', '34020000001310009999')))?.status, 200);
    assert.equal((await sim.sendManscdp('NOTIFY', notify('OFF', first)))?.status, 200);
    assert.equal((await sim.sendManscdp('MESSAGE', notify('DEL', makeChannels(DEVICE_ID, 2)[1]!.id)))?.status, 200);
    assert.equal(f.channels.get(DEVICE_ID, '34020000001310009999')?.name, '新通道');
    assert.equal(f.channels.get(DEVICE_ID, first)?.online, false);
    assert.equal(f.channels.get(DEVICE_ID, makeChannels(DEVICE_ID, 2)[1]!.id)?.gone, true);
    assert.equal(f.devices.get(DEVICE_ID)?.channelCount, 3);
  } finally {
    await f.close();
  }
});

test('a device that never answers the catalog query: the refresh fails with why', async () => {
  const f = await startServer({ catalogIdleMs: 500, queryTimeoutMs: 500 });
  try {
    const sim = await f.simulator({ silent: true });
    assert.equal((await sim.register())?.status, 200);
    await assert.rejects(f.server.refreshCatalog(DEVICE_ID), /no Catalog answer from device 34020000001320000001/);
    await assert.rejects(f.server.refreshCatalog('34020000001320000099'), /not known/);
  } finally {
    await f.close();
  }
});

test('the catalog is queried again every catalogRefresh; the SUBSCRIBE is renewed before it expires', async () => {
  const f = await startServer({ catalogRefreshMs: 700, catalogSubscribeSec: 2 });
  try {
    const sim = await f.simulator({ channels: makeChannels(DEVICE_ID, 2) });
    assert.equal((await sim.register())?.status, 200);
    const catalogs = (): number => sim.received.filter((r) => r.method === 'MESSAGE' && r.body.includes('<CmdType>Catalog</CmdType>')).length;
    await waitFor(() => catalogs() >= 3 || undefined, 5000, 'periodic catalog queries');
    await waitFor(() => sim.received.filter((r) => r.method === 'SUBSCRIBE').length >= 2 || undefined, 5000, 'a renewed SUBSCRIBE');
    const subscribes = sim.received.filter((r) => r.method === 'SUBSCRIBE');
    assert.match(subscribes[0]!.headers.get('event')?.[0] ?? '', /^Catalog;id=\d+$/);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.ok(sim.received.filter((r) => r.method === 'SUBSCRIBE').length <= 4, 'renewals are spaced, not on every sweep');
  } finally {
    await f.close();
  }
});

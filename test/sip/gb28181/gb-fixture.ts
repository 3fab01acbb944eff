import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../../src/core/log';
import { openDatabase, type Db } from '../../../storage/db';
import { ChannelRepo } from '../../../storage/repos/channels';
import { DeviceRepo } from '../../../storage/repos/devices';
import { DEFAULT_GB_CONFIG, type GbServerConfig } from '../../../sip/gb28181/config';
import { GbServer } from '../../../sip/gb28181/server';
import { GbDeviceSimulator, type SimulatorOptions } from '../../helpers/gb-device-simulator';

export const SERVER_ID = '34020000002000000001';
export const DOMAIN = '3402000000';
export const PASSWORD = '12345678';
export const DEVICE_ID = '34020000001320000001';

export interface ServerFixture {
  server: GbServer;
  devices: DeviceRepo;
  channels: ChannelRepo;
  db: Db;
  port: number;
  simulator(options?: Partial<SimulatorOptions>): Promise<GbDeviceSimulator>;
  close(): Promise<void>;
}

/** A GbServer on 127.0.0.1 with an OS-chosen port, a temporary SQLite and simulators that close with it. */
export async function startServer(config: Partial<GbServerConfig> = {}, log: Logger = silentLogger()): Promise<ServerFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gb-'));
  const db = openDatabase(dir, log);
  const devices = new DeviceRepo(db);
  const channels = new ChannelRepo(db, devices);
  const server = new GbServer({
    host: '127.0.0.1',
    port: 0,
    advertisedHost: '127.0.0.1',
    config: { ...DEFAULT_GB_CONFIG, id: SERVER_ID, domain: DOMAIN, password: PASSWORD, sweepMs: 100, ...config },
    devices,
    channels,
    log,
  });
  const { port } = await server.listen();
  const sims: GbDeviceSimulator[] = [];
  return {
    server,
    devices,
    channels,
    db,
    port,
    async simulator(options = {}) {
      const sim = new GbDeviceSimulator({ deviceId: DEVICE_ID, serverPort: port, serverId: SERVER_ID, domain: DOMAIN, password: PASSWORD, ...options });
      sims.push(sim);
      await sim.start();
      return sim;
    },
    async close() {
      await Promise.all(sims.map((s) => s.close()));
      await server.close();
      devices.flush();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

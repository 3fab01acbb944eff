/**
 * GB28181 download benchmark: prints numbers, asserts nothing.
 *
 *   npm run bench:gb-download -- [--seconds 60] [--speeds 1,4,8,16] [--parallel 1]
 *
 * The gateway and the device simulator run in this process (SIP over UDP, media over UDP); the
 * simulator serves exactly the range asked for (the sb-im/sbgb28181 PS fixture, H.264 640x480
 * 25 fps, about 0.5 Mbit/s, looped) at `a=downloadspeed` times real time. For each speed,
 * `--parallel` channels download a `--seconds` range at once; printed per point: wall time from
 * POST to complete, the achieved speed (media time over wall time, as the API reports it), the
 * recorded bytes per wall second, and this process's CPU (gateway and simulator together, % of
 * one core) over the point. A 1x download shows the pacing is the device's, not the gateway's.
 */
import { startTestGateway, gbServerOf } from '../helpers/gateway';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { PS_FIXTURE_H264 } from '../helpers/gb-media-sender';
import { makeChannels } from '../helpers/gb-sim-manscdp';
import { loadavg } from 'node:os';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const SECONDS = Number(arg('seconds', '60'));
const SPEEDS = arg('speeds', '1,4,8,16').split(',').map(Number);
const PARALLEL = Number(arg('parallel', '1'));
const DEVICE = '34020000001320000001';

interface DownloadView {
  id: number;
  state: string;
  achievedSpeed: number | null;
  bytes: number;
  mediaMs: number;
  error: string | null;
}

async function main(): Promise<void> {
  const gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_SIP_MEDIA_TIMEOUT: '5' });
  const channels = makeChannels(DEVICE, PARALLEL);
  const sim = new GbDeviceSimulator({
    deviceId: DEVICE,
    ...gbServerOf(gw),
    channels,
    playbackFixture: PS_FIXTURE_H264,
    serveRange: true,
  });
  try {
    await gw.api('POST', '/api/devices', { id: DEVICE, streamMode: 'udp' });
    await sim.start();
    await sim.register();
    console.log(`GB28181 download bench: ${SECONDS} s ranges, ${PARALLEL} at once, load average ${loadavg()[0]!.toFixed(1)} at start`);
    console.log('speed | wall ms (slowest) | achieved speed (min..max) | MB/s recorded (all) | CPU % of a core | load avg');
    let dayBack = 2;
    for (const speed of SPEEDS) {
      const start = Math.floor(Date.now() / 60_000) * 60 - 86_400 * dayBack++;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const posted = await Promise.all(
        channels.map(async (c) => (await gw.api('POST', '/api/downloads', { deviceId: DEVICE, channelId: c.id, start, end: start + SECONDS, speed })).json() as DownloadView),
      );
      const finished: DownloadView[] = await Promise.all(posted.map((d) => waitDone(gw, d.id)));
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const speeds = finished.map((d) => d.achievedSpeed ?? 0);
      const bytes = finished.reduce((n, d) => n + d.bytes, 0);
      const states = finished.filter((d) => d.state !== 'complete').map((d) => `${d.state}: ${d.error}`);
      console.log(
        [
          speed,
          Math.round(wallMs),
          `${Math.min(...speeds)}..${Math.max(...speeds)}`,
          (bytes / 1e6 / (wallMs / 1000)).toFixed(2),
          (((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(1),
          loadavg()[0]!.toFixed(1),
          ...(states.length ? [`NOT COMPLETE ${states.join('; ')}`] : []),
        ].join(' | '),
      );
    }
  } finally {
    await sim.close();
    await gw.stop();
  }
}

async function waitDone(gw: Awaited<ReturnType<typeof startTestGateway>>, id: number): Promise<DownloadView> {
  for (;;) {
    const view = (await gw.api('GET', `/api/downloads/${id}`)).json() as DownloadView;
    if (view.state !== 'downloading' && view.state !== 'starting') return view;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

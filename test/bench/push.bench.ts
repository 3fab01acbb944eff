/**
 * 50 concurrent pushes of one 2 Mbit/s stream to nginx-rtmp: CPU and RSS of the gateway per
 * push. Usage: npm run bench:push -- [--pushes 50] [--seconds 20] [--settle 5]
 *
 * The gateway runs as its own process (node dist/src/app/main.js, ports 0 on 127.0.0.1),
 * ffmpeg publishes the bench source (720p25 H.264 1.9 Mbit/s + AAC, see servers.ts) into it
 * with -c copy, and nginx-rtmp (Debian's nginx + libnginx-mod-rtmp) takes the pushes. The
 * gateway's CPU (utime+stime of /proc/PID/stat) and VmRSS are measured over a window with the
 * publisher only, then over a window with N pushes; per push = the difference / N.
 */
import { clockTicksPerSecond, machineBusySeconds, processCpuSeconds, processRssKb, RssSampler } from './proc-stats';
import { ensureSource, Resources, startGateway, startPublisher } from './servers';
import { NginxRtmp } from '../helpers/nginx-rtmp';
import { join } from 'node:path';
import type { PushDto } from '../../src/api/pushes';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Window {
  cpuPercent: number;
  othersPercent: number;
  rssKb: number;
  peakRssKb: number;
}

async function measure(pid: number, seconds: number): Promise<Window> {
  const hz = clockTicksPerSecond();
  const sampler = new RssSampler(pid, 250);
  const cpu0 = processCpuSeconds(pid, hz) ?? 0;
  const busy0 = machineBusySeconds(hz);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = (processCpuSeconds(pid, hz) ?? 0) - cpu0;
  const busy = machineBusySeconds(hz) - busy0;
  sampler.stop();
  return { cpuPercent: (100 * cpu) / wall, othersPercent: (100 * (busy - cpu)) / wall, rssKb: processRssKb(pid) ?? 0, peakRssKb: sampler.peakKb };
}

async function main(): Promise<void> {
  const pushes = arg('pushes', 50);
  const seconds = arg('seconds', 20);
  const settle = arg('settle', 5);
  const resources = new Resources();
  process.once('SIGINT', () => {
    resources.killAll();
    process.exit(130);
  });
  const root = join(__dirname, '..', '..', '..');
  const source = await ensureSource((line) => console.log(line));
  const nginx = await NginxRtmp.start();
  const gw = await startGateway(root, resources);
  const pid = gw.process.child.pid!;
  const api = `http://127.0.0.1:${gw.httpPort}/api/pushes`;
  try {
    startPublisher(source, `rtmp://127.0.0.1:${gw.rtmpPort}/live/bench`, resources);
    await sleep(settle * 1000);
    const base = await measure(pid, seconds);
    console.log(`publisher only: gateway ${base.cpuPercent.toFixed(1)} % of a core, RSS ${(base.rssKb / 1024).toFixed(1)} MB (others ${base.othersPercent.toFixed(0)} %)`);
    for (let i = 0; i < pushes; i++) {
      const res = await fetch(api, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: 'live/bench', url: `rtmp://127.0.0.1:${nginx.port}/live/p${i}` }),
      });
      if (res.status !== 201) throw new Error(`POST /api/pushes: ${res.status} ${await res.text()}`);
    }
    await sleep(settle * 1000);
    const statuses = async (): Promise<PushDto['pushes']> => ((await (await fetch(api)).json()) as { pushes: PushDto[] }).pushes.flatMap((p) => p.pushes);
    await statuses(); // the bit-rate meters count from this read
    const loaded = await measure(pid, seconds);
    const list = await statuses();
    const pushing = list.filter((p) => p.state === 'pushing').length;
    const dropped = list.reduce((n, p) => n + p.framesDropped, 0);
    const kbps = list.reduce((n, p) => n + p.bitrateKbps, 0);
    const cpuPerPush = (loaded.cpuPercent - base.cpuPercent) / pushes;
    const rssPerPushMb = (loaded.peakRssKb - base.rssKb) / 1024 / pushes;
    console.log(
      `${pushes} pushes: gateway ${loaded.cpuPercent.toFixed(1)} % of a core, RSS ${(loaded.rssKb / 1024).toFixed(1)} MB (peak ${(loaded.peakRssKb / 1024).toFixed(1)}), others ${loaded.othersPercent.toFixed(0)} %`,
    );
    console.log(`pushing ${pushing}/${pushes}, ${(kbps / 1000).toFixed(1)} Mbit/s out, ${dropped} frames dropped`);
    console.log(`per push: ${cpuPerPush.toFixed(3)} % of a core (goal <= 0.3), ${rssPerPushMb.toFixed(2)} MB RSS (goal <= 1)`);
    console.log(JSON.stringify({ pushes, seconds, base, loaded, pushing, dropped, outMbps: kbps / 1000, cpuPerPushPercent: cpuPerPush, rssPerPushMb }));
  } finally {
    await gw.stop();
    await nginx.stop();
    resources.killAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * GB28181 registration benchmark: N simulated devices register with digest (401 then 200) to a
 * gateway in its own process, answer its DeviceInfo / ConfigDownload / Catalog queries, then
 * send keepalives. Prints registrations/s, the gateway's CPU for the registration burst and for
 * the keepalive load, and its RSS per device.
 *
 *   node dist/test/bench/sip-register.bench.js [--devices 1000,5000,10000] [--concurrency 200]
 *                                              [--keepalive 10] [--window 20] [--settle 5] [--profile DIR]
 *                                              [--quiet-below 50] [--quiet-wait 120]
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { buildRawSip, parseRawSip } from '../helpers/gb-sip-text';
import { clockTicksPerSecond, machineBusySeconds, processCpuSeconds, processRssKb, waitForQuietMachine } from './proc-stats';
import { ManagedChild, Resources, freePort } from './servers';
import { LOOPBACK_LISTENERS } from '../helpers/loopback-env';

const ROOT = join(__dirname, '..', '..', '..');
const SERVER_ID = '34020000002000000001';
const DOMAIN = '3402000000';
const PASSWORD = 'bench-password';

interface Args {
  devices: number[];
  concurrency: number;
  keepaliveSeconds: number;
  windowSeconds: number;
  settleSeconds: number;
  /** Write a V8 CPU profile of the gateway here (--cpu-prof). */
  profileDir: string | undefined;
  /** Before each round, wait (at most quietWait s) until the rest of the machine uses less than this % of a core. */
  quietBelow: number;
  quietWait: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    devices: [1000, 5000, 10_000],
    concurrency: 200,
    keepaliveSeconds: 10,
    windowSeconds: 20,
    settleSeconds: 5,
    profileDir: undefined,
    quietBelow: 50,
    quietWait: 120,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1] ?? '';
    switch (argv[i]) {
      case '--devices':
        args.devices = value
          .split(',')
          .map(Number)
          .filter((n) => n > 0 && n <= 10_000);
        break;
      case '--concurrency':
        args.concurrency = Number(value);
        break;
      case '--keepalive':
        args.keepaliveSeconds = Number(value);
        break;
      case '--window':
        args.windowSeconds = Number(value);
        break;
      case '--settle':
        args.settleSeconds = Number(value);
        break;
      case '--profile':
        args.profileDir = value;
        break;
      case '--quiet-below':
        args.quietBelow = Number(value);
        break;
      case '--quiet-wait':
        args.quietWait = Number(value);
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return args;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once the SIP port answers an OPTIONS over UDP. */
async function waitForSip(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  try {
    while (Date.now() < deadline) {
      const answered = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 300);
        socket.once('message', (data) => {
          clearTimeout(timer);
          resolve(parseRawSip(data)?.status === 200);
        });
      });
      const local = socket.address().port;
      socket.send(
        buildRawSip(`OPTIONS sip:${SERVER_ID}@127.0.0.1:${port} SIP/2.0`, [
          ['Via', `SIP/2.0/UDP 127.0.0.1:${local};rport;branch=z9hG4bK${Date.now()}`],
          ['From', `<sip:34020000001320009999@${DOMAIN}>;tag=1`],
          ['To', `<sip:${SERVER_ID}@${DOMAIN}>`],
          ['Call-ID', `probe-${Date.now()}`],
          ['CSeq', '1 OPTIONS'],
        ]),
        port,
        '127.0.0.1',
      );
      if (await answered) return;
    }
    throw new Error(`the gateway did not answer SIP on ${port}`);
  } finally {
    socket.close();
  }
}

function deviceId(i: number): string {
  return `3402000000132${String(i).padStart(7, '0')}`;
}

interface RoundResult {
  devices: number;
  registered: number;
  failed: number;
  registerSeconds: number;
  registrationsPerSecond: number;
  registerCpuPercent: number;
  registerCpuMsPerDevice: number;
  keepalivesPerSecond: number;
  keepaliveCpuPercent: number;
  keepaliveCpuUsPer: number;
  keepaliveFailures: number;
  rssBaseMb: number;
  rssKbPerDevice: number;
  othersPercent: number;
  othersBeforePercent: number;
}

async function round(n: number, args: Args, resources: Resources, hz: number): Promise<RoundResult> {
  const othersBeforePercent = await waitForQuietMachine(hz, args.quietBelow, args.quietWait * 1000);
  const port = await freePort();
  const storage = resources.tempDir('gw-sip-bench-');
  const env = {
    ...process.env,
    ...LOOPBACK_LISTENERS,
    GW_SIP_PORT: String(port),
    GW_SIP_PASSWORD: PASSWORD,
    GW_SIP_MEDIA_IP: '127.0.0.1',
    GW_STORAGE_DIR: storage,
    GW_LOG_LEVEL: 'warn',
    GW_LOG_PRETTY: 'no',
  };
  const gateway = new ManagedChild(
    'gateway',
    spawn(process.execPath, [...(args.profileDir ? ['--cpu-prof', '--cpu-prof-dir', args.profileDir] : []), join(ROOT, 'dist', 'src', 'app', 'main.js')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    }),
    resources,
  );
  const sims: GbDeviceSimulator[] = [];
  try {
    await waitForSip(port, 20_000);
    await sleep(1000);
    const rssBase = processRssKb(gateway.pid) ?? 0;
    for (let i = 0; i < n; i++) {
      sims.push(
        new GbDeviceSimulator({ deviceId: deviceId(i), serverPort: port, serverId: SERVER_ID, domain: DOMAIN, password: PASSWORD, heartbeatInterval: 60, heartbeatCount: 3 }),
      );
    }
    for (let i = 0; i < n; i += 500) await Promise.all(sims.slice(i, i + 500).map((s) => s.start()));

    // Registration burst: `concurrency` devices in flight.
    let registered = 0;
    let failed = 0;
    let next = 0;
    const cpu0 = processCpuSeconds(gateway.pid, hz) ?? 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(args.concurrency, n) }, async () => {
        while (next < n) {
          const sim = sims[next++]!;
          const answer = await sim.register();
          if (answer?.status === 200) registered++;
          else failed++;
        }
      }),
    );
    const registerSeconds = (performance.now() - t0) / 1000;
    const registerCpu = (processCpuSeconds(gateway.pid, hz) ?? 0) - cpu0;

    // Settle: the gateway's DeviceInfo / ConfigDownload / Catalog queries are answered.
    await sleep(args.settleSeconds * 1000);

    // Keepalives, spread evenly over the interval.
    let keepalives = 0;
    let keepaliveFailures = 0;
    const intervalMs = args.keepaliveSeconds * 1000;
    const timers: NodeJS.Timeout[] = [];
    const cpu1 = processCpuSeconds(gateway.pid, hz) ?? 0;
    const busy1 = machineBusySeconds(hz);
    const self1 = process.cpuUsage();
    const t1 = performance.now();
    sims.forEach((sim, i) => {
      const send = (): void => {
        sim.keepalive().then(
          (a) => (a?.status === 200 ? keepalives++ : keepaliveFailures++),
          () => keepaliveFailures++,
        );
      };
      timers.push(
        setTimeout(
          () => {
            send();
            timers.push(setInterval(send, intervalMs));
          },
          (i / n) * intervalMs,
        ),
      );
    });
    let rssPeak = 0;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, processRssKb(gateway.pid) ?? 0)), 500);
    await sleep(args.windowSeconds * 1000);
    clearInterval(sampler);
    for (const t of timers) clearTimeout(t);
    const window = (performance.now() - t1) / 1000;
    const keepaliveCpu = (processCpuSeconds(gateway.pid, hz) ?? 0) - cpu1;
    const self = process.cpuUsage(self1);
    const busy = machineBusySeconds(hz) - busy1;
    const others = Math.max(0, busy - keepaliveCpu - (self.user + self.system) / 1e6);
    rssPeak = Math.max(rssPeak, processRssKb(gateway.pid) ?? 0);
    return {
      devices: n,
      registered,
      failed,
      registerSeconds,
      registrationsPerSecond: registered / registerSeconds,
      registerCpuPercent: (registerCpu / registerSeconds) * 100,
      registerCpuMsPerDevice: (registerCpu * 1000) / Math.max(1, registered),
      keepalivesPerSecond: keepalives / window,
      keepaliveCpuPercent: (keepaliveCpu / window) * 100,
      keepaliveCpuUsPer: (keepaliveCpu * 1e6) / Math.max(1, keepalives),
      keepaliveFailures,
      rssBaseMb: rssBase / 1024,
      rssKbPerDevice: (rssPeak - rssBase) / n,
      othersPercent: (others / window) * 100,
      othersBeforePercent,
    };
  } finally {
    await Promise.all(sims.map((s) => s.close()));
    await gateway.stop(10_000);
    resources.removeDir(storage);
  }
}

function render(results: readonly RoundResult[]): string {
  const header = [
    'devices',
    'registered',
    'failed',
    'reg/s',
    'reg CPU %',
    'CPU ms/reg',
    'keepalive/s',
    'ka CPU %',
    'CPU µs/ka',
    'ka lost',
    'RSS base MB',
    'RSS KB/device',
    'others %',
    'others before %',
  ];
  const rows = results.map((r) =>
    [
      r.devices,
      r.registered,
      r.failed,
      r.registrationsPerSecond.toFixed(0),
      r.registerCpuPercent.toFixed(0),
      r.registerCpuMsPerDevice.toFixed(2),
      r.keepalivesPerSecond.toFixed(0),
      r.keepaliveCpuPercent.toFixed(1),
      r.keepaliveCpuUsPer.toFixed(0),
      r.keepaliveFailures,
      r.rssBaseMb.toFixed(0),
      r.rssKbPerDevice.toFixed(1),
      r.othersPercent.toFixed(0),
      r.othersBeforePercent.toFixed(0),
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const resources = new Resources();
  const hz = clockTicksPerSecond();
  process.on('exit', () => resources.killAll());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      resources.killAll();
      process.exit(130);
    });
  }
  const results: RoundResult[] = [];
  for (const n of args.devices) {
    process.stdout.write(`${n} devices: registering (${args.concurrency} in flight), then keepalives every ${args.keepaliveSeconds} s for ${args.windowSeconds} s...\n`);
    results.push(await round(n, args, resources, hz));
  }
  process.stdout.write(`\nGB28181 registration benchmark (gateway in its own process, devices in this one, loopback UDP, digest MD5)\n${render(results)}\n`);
  process.stdout.write(
    '\nreg/s: 200 OK answers per second over the burst (each = REGISTER, 401, REGISTER with digest, 200); reg CPU %: gateway utime+stime over the burst (also serving DeviceInfo/ConfigDownload/Catalog of the devices already in);\n' +
      'keepalive/s and ka CPU %: the keepalive window; RSS KB/device: (peak RSS in the window - RSS before the devices) / N;\n' +
      'others %: the rest of the machine (neither the gateway nor this load client) during the keepalive window, and before the round (it waits for < --quiet-below %).\n',
  );
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

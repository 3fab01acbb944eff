/**
 * HTTP-TS time to first decoded frame (issue 14): the project's ffprobe against our
 * `/{app}/{stream}.ts` (ffmpeg publishes RTMP to us) and against ffmpeg's own TS server
 * (`ffmpeg -i rtmp://gateway/... -c copy -f mpegts -listen 1`) fed the same RTMP stream, both
 * joined 1.5 s after the stream is ready, and ours again with the burst of older GOPs
 * (http.tsBurstSeconds 5, the viewer's default) once the stream has run long enough to have them.
 * Prints the three, per run.
 *
 *   npm run bench:ts-first-frame -- [--runs 5] [--burst 5]
 *
 * What the numbers mean: ffmpeg/ffprobe set the mpegts option scan_all_pmts=1, so
 * avformat_find_stream_info never ends on "all info found" for TS: it reads until 5 s of stream
 * time (max_analyze_duration) or 5 MB (probesize). A viewer gets the bytes from the last
 * keyframe at once and the rest in real time, so the first frame costs about 5 s minus the
 * burst. ffmpeg's server is faster only by the backlog it piled up while blocked in accept().
 * `-analyzeduration 1000000` on the client brings ours to about 0.4-0.6 s; so does the burst,
 * which hands the prober those 5 s at once (it then plays 5 s behind live).
 */
import { createServer } from 'node:net';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { spawn } from 'node:child_process';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { ffmpegPath, ffprobePath, startTool } from '../helpers/media-tools';
import { testPatternArgs } from '../helpers/publisher';

const TS_PACKET = 188;
const SOURCE = { size: '1280x720', gop: 50, preset: 'veryfast', zeroLatency: true, bitrate: '2M', audioBitrate: '96k' };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** ms from starting ffprobe until it prints the first decoded video frame. */
function firstFrameMs(url: string): Promise<number> {
  return new Promise((resolve) => {
    const started = performance.now();
    const probe = spawn(ffprobePath, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pts', '-of', 'csv', '-read_intervals', '%+#1', url]);
    let done = false;
    const finish = (value: number): void => {
      if (done) return;
      done = true;
      probe.kill('SIGKILL');
      resolve(value);
    };
    probe.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('frame')) finish(performance.now() - started);
    });
    probe.once('exit', () => finish(Number.NaN));
    setTimeout(() => finish(Number.NaN), 20_000).unref();
  });
}

/** The gateway's HTTP-TS, joined mid-GOP as a real viewer does: `?burst=0` is the live edge, without it the configured burst. */
async function ours(gw: TestGateway, query = ''): Promise<number> {
  return firstFrameMs(`${gw.httpUrl}/live/bench.ts${query}`);
}

/**
 * ffmpeg's own TS server fed the same RTMP stream: `ffmpeg -i rtmp://... -c copy -f mpegts
 * -listen 1`. The project's ffprobe build segfaults on the SDT (PID 0x11) that ffmpeg's TS muxer
 * writes (it does on any ffmpeg-made TS file, too), so a passthrough relay drops that PID's
 * packets and forwards every other byte as it arrives.
 */
async function ffmpegOwn(gw: TestGateway): Promise<number> {
  const port = await freePort();
  const server = startTool(ffmpegPath, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-i',
    gw.publishUrl('live/bench'),
    '-c',
    'copy',
    '-f',
    'mpegts',
    '-listen',
    '1',
    `http://127.0.0.1:${port}`,
  ]);
  const relay = await startSdtDroppingRelay(`http://127.0.0.1:${port}/`);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the same join delay as ours
    return await firstFrameMs(relay.url);
  } finally {
    relay.close();
    await server.stop();
  }
}

const SDT_PID = 0x11;

async function startSdtDroppingRelay(upstream: string): Promise<{ url: string; close(): void }> {
  const server = createHttpServer((req, res) => {
    const upstreamRequest = httpGet(upstream, (source) => {
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      let rest: Buffer = Buffer.alloc(0);
      source.on('data', (data: Buffer) => {
        rest = rest.length ? Buffer.concat([rest, data]) : data;
        const whole = rest.length - (rest.length % TS_PACKET);
        for (let at = 0; at < whole; at += TS_PACKET) {
          const pid = ((rest[at + 1]! & 0x1f) << 8) | rest[at + 2]!;
          if (pid !== SDT_PID) res.write(rest.subarray(at, at + TS_PACKET));
        }
        rest = rest.subarray(whole);
      });
      source.on('end', () => res.end());
    });
    upstreamRequest.on('error', () => res.destroy());
    req.on('close', () => upstreamRequest.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

async function main(): Promise<void> {
  const arg = (name: string, fallback: number): number => {
    const index = process.argv.indexOf(name);
    return index > 0 ? Number(process.argv[index + 1]) : fallback;
  };
  const runs = arg('--runs', 5);
  const burst = arg('--burst', 5);
  const rows: { ours: number; ffmpeg: number; burst: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const gw = await startTestGateway({ GW_HTTP_TS_BURST_SECONDS: String(burst) });
    const publisher = startTool(ffmpegPath, testPatternArgs(gw.publishUrl('live/bench'), SOURCE));
    try {
      await waitFor(() => gw.gateway.registry.get('live/bench')?.ready, 20_000, 'the stream');
      const readyAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a viewer joins mid-GOP, as a real one does
      const live = await ours(gw, '?burst=0');
      const ffmpeg = await ffmpegOwn(gw);
      // The burst needs the stream to have run for that long (plus a GOP); a real camera has.
      const wait = readyAt + (burst + 2.5) * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      rows.push({ ours: live, ffmpeg, burst: await ours(gw) });
    } finally {
      await publisher.stop();
      await gw.stop();
    }
    const show = (ms: number): string => (Number.isNaN(ms) ? 'failed (no frame from ffprobe)' : `${ms.toFixed(0)} ms`);
    console.log(`run ${i + 1}: gateway HTTP-TS ${show(rows[i]!.ours)} (?burst=0), with a ${burst} s burst ${show(rows[i]!.burst)}, ffmpeg -listen 1 ${show(rows[i]!.ffmpeg)}`);
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  console.log(
    `median first decoded frame: gateway ${median(rows.map((r) => r.ours)).toFixed(0)} ms, gateway with a ${burst} s burst ${median(rows.map((r) => r.burst)).toFixed(0)} ms, ffmpeg ${median(rows.map((r) => r.ffmpeg)).toFixed(0)} ms (ffprobe default options, -read_intervals %+#1, 1280x720 25 fps H.264 + AAC, GOP 2 s, loopback; machine shared with other engineers)`,
  );
}

void main();

/**
 * HTTP-TS time to first decoded frame (issue 14): the project's ffprobe against our
 * `/{app}/{stream}.ts` (ffmpeg publishes RTMP to us) and against ffmpeg's own TS server
 * (`-f mpegts -listen 1 http://127.0.0.1:PORT`) fed the same input. Prints both, per run.
 *
 *   npm run bench:ts-first-frame -- [--runs 5]
 *
 * Known gap: here ffprobe reads EOF at once from ffmpeg's `-listen 1` server (curl reads its
 * TS fine), so that side prints "failed" until the probe's HTTP exchange with it is sorted out.
 */
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { startTestGateway, waitFor } from '../helpers/gateway';
import { ffmpegPath, ffprobePath, startTool } from '../helpers/media-tools';

const INPUT = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'];
const CODECS = ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-b:v', '2M', '-c:a', 'aac', '-b:a', '96k'];

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

async function ours(): Promise<number> {
  const gw = await startTestGateway();
  const publisher = startTool(ffmpegPath, ['-hide_banner', '-loglevel', 'error', ...INPUT, ...CODECS, '-f', 'flv', gw.publishUrl('live/bench')]);
  try {
    await waitFor(() => gw.gateway.registry.get('live/bench')?.ready, 20_000, 'the stream');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a viewer joins mid-GOP, as a real one does
    return await firstFrameMs(`${gw.httpUrl}/live/bench.ts`);
  } finally {
    await publisher.stop();
    await gw.stop();
  }
}

async function ffmpegOwn(): Promise<number> {
  const port = await freePort();
  const server = startTool(ffmpegPath, ['-hide_banner', '-loglevel', 'error', ...INPUT, ...CODECS, '-f', 'mpegts', '-listen', '1', `http://127.0.0.1:${port}`]);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500 + 1500));
    return await firstFrameMs(`http://127.0.0.1:${port}`);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const index = process.argv.indexOf('--runs');
  const runs = index > 0 ? Number(process.argv[index + 1]) : 5;
  const rows: { ours: number; ffmpeg: number }[] = [];
  for (let i = 0; i < runs; i++) {
    rows.push({ ours: await ours(), ffmpeg: await ffmpegOwn() });
    const show = (ms: number): string => (Number.isNaN(ms) ? 'failed (no frame from ffprobe)' : `${ms.toFixed(0)} ms`);
    console.log(`run ${i + 1}: gateway HTTP-TS ${show(rows[i]!.ours)}, ffmpeg -listen 1 ${show(rows[i]!.ffmpeg)}`);
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  console.log(`median first decoded frame: gateway ${median(rows.map((r) => r.ours)).toFixed(0)} ms, ffmpeg ${median(rows.map((r) => r.ffmpeg)).toFixed(0)} ms (ffprobe -read_intervals %+#1, 1280x720 25 fps H.264 + AAC, loopback; machine shared with other engineers)`);
}

void main();

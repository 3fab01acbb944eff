/**
 * TLS on every protocol, proven with third-party clients against one gateway run as the CLI
 * (so SIGHUP is the real signal): ffprobe plays rtmps://, https://...flv, https://.../index.m3u8
 * and rtsps:// with verification on (GnuTLS, -tls_verify 1 against the test's CA); mpegts.js in
 * Chromium plays wss:// with exactly that certificate trusted; a wrong certificate or host is
 * refused; after SIGHUP with a new pair an RTMPS viewer, the RTMPS publisher and the WSS page
 * keep playing while new connections get the new certificate.
 *
 * The RTSP demuxer of ffmpeg opens its TLS connection without the caller's options (rtsp.c
 * passes none to the tls protocol), so it cannot verify: RTSPS is played by ffprobe and its
 * certificate verified by `openssl s_client -verify_return_error`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT, TEST_SECRETS, waitFor } from '../helpers/gateway';
import { ffmpegPath, ffprobeJson, startTool } from '../helpers/media-tools';
import { testPatternArgs } from '../helpers/publisher';
import { launchChromium, playFlvWithMpegts, saveScreenshot, type MpegtsState } from '../helpers/browser';
import { makeTestPki, type TestPki } from '../helpers/stunnel';

const MAIN = join(PROJECT_ROOT, 'dist', 'src', 'app', 'main.js');
const PATH = 'live/tls';

interface Ports {
  http: number;
  rtmp: number;
  rtsp: number;
  https: number;
  rtmps: number;
  rtsps: number;
}

interface GatewayRun {
  child: ChildProcess;
  exited: Promise<number | null>;
  out(): string;
  err(): string;
}

function runGateway(env: Record<string, string>): GatewayRun {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

function logLines(run: GatewayRun): { msg?: string; reason?: string; ports?: Ports; certificate?: { fingerprint256: string } }[] {
  return run
    .out()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string });
}

/** Every listener on 127.0.0.1 and an OS-chosen port. */
function gatewayEnv(dir: string, cert: string, key: string): Record<string, string> {
  const env: Record<string, string> = {
    GW_STORAGE_DIR: join(dir, 'storage'),
    GW_LOG_PRETTY: 'no',
    GW_LOG_LEVEL: 'info',
    GW_AUTH_SECRET: TEST_SECRETS.secret,
    GW_AUTH_PUBLISH_KEY: TEST_SECRETS.publishKey,
    GW_SIP_PASSWORD: TEST_SECRETS.sipPassword,
    GW_AUTH_PLAY: 'open',
    GW_SIP_ENABLED: 'false',
    GW_RTP_PORT_MIN: '0',
    GW_TLS_CERT: cert,
    GW_TLS_KEY: key,
    // SIGHUP alone reloads here: the file watch is tested in test/app/tls.
    GW_TLS_WATCH_DELAY: '0',
  };
  for (const name of ['HTTP', 'RTMP', 'RTSP']) Object.assign(env, { [`GW_${name}_HOST`]: '127.0.0.1', [`GW_${name}_PORT`]: '0' });
  for (const name of ['HTTPS', 'RTMPS', 'RTSPS']) Object.assign(env, { [`GW_TLS_${name}_ENABLED`]: 'true', [`GW_TLS_${name}_PORT`]: '0' });
  return env;
}

/** -tls_verify 1 with the CA file: GnuTLS checks the chain and that the certificate names 127.0.0.1. */
const verifyWith = (pki: TestPki, host?: string): string[] => ['-tls_verify', '1', '-ca_file', pki.caFile, ...(host ? ['-verifyhost', host] : [])];

/** openssl s_client: 0 when the server's certificate verifies against `pki`'s CA for `host`. */
function opensslVerifies(port: number, pki: TestPki, host = '127.0.0.1'): { ok: boolean; output: string } {
  const name = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? ['-verify_ip', host] : ['-verify_hostname', host];
  const run = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', pki.caFile, ...name, '-verify_return_error', '-brief'], {
    input: '',
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.slice(0, 600) };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` gets. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const fingerprintOf = (pki: TestPki): string => new X509Certificate(readFileSync(pki.certFile)).fingerprint256;
/** base64 SHA-256 of the SubjectPublicKeyInfo: what Chromium's --ignore-certificate-errors-spki-list takes. */
const spkiOf = (pki: TestPki): string =>
  createHash('sha256')
    .update(new X509Certificate(readFileSync(pki.certFile)).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');

/** An ffmpeg RTMPS viewer that decodes and reports its frame count (-progress). */
function startViewer(url: string, pki: TestPki): { frames(): number; alive(): boolean; stop(): Promise<void> } {
  const child = spawn(ffmpegPath, ['-hide_banner', '-loglevel', 'error', ...verifyWith(pki), '-i', url, '-f', 'null', '-progress', 'pipe:1', '-'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let frames = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    for (const match of chunk.toString().matchAll(/^frame=(\d+)$/gm)) frames = Number(match[1]);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    frames: () => frames,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

let dir: string;
let pkiA: TestPki;
let pkiB: TestPki;
let run: GatewayRun;
let ports: Ports;
let publisher: ReturnType<typeof startTool> | undefined;
let browser: Browser | undefined;
let page: Page | undefined;

async function streamReady(): Promise<{ publisher?: { id?: string } } | false> {
  const res = await fetch(`http://127.0.0.1:${ports.http}/api/streams/${PATH}`, { headers: { authorization: `Bearer ${TEST_SECRETS.secret}` } });
  if (res.status !== 200) return false;
  const body = (await res.json()) as { ready?: boolean; publisher?: { id?: string } };
  return body.ready === true ? body : false;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
  pkiA = makeTestPki({ ips: ['127.0.0.1'], dns: [] });
  pkiB = makeTestPki({ ips: ['127.0.0.1'], dns: [] });
  copyFileSync(pkiA.certFile, join(dir, 'cert.pem'));
  copyFileSync(pkiA.keyFile, join(dir, 'key.pem'));
  run = runGateway(gatewayEnv(dir, join(dir, 'cert.pem'), join(dir, 'key.pem')));
  const listening = await waitFor(() => logLines(run).find((l) => l.msg === 'gateway listening'), 30_000, `the gateway to listen (${run.err()})`);
  ports = listening.ports!;
  assert.ok(ports.https > 0 && ports.rtmps > 0 && ports.rtsps > 0, `TLS ports bound: ${JSON.stringify(ports)}`);
  // The encoder publishes over RTMPS too, verifying the gateway's certificate.
  const key = encodeURIComponent(TEST_SECRETS.publishKey);
  const target = `rtmps://127.0.0.1:${ports.rtmps}/${PATH}?key=${key}`;
  publisher = startTool(ffmpegPath, testPatternArgs(target, { zeroLatency: true, bitrate: '800k', audioBitrate: '96k', outputOptions: verifyWith(pkiA) }));
  await waitFor(streamReady, 20_000, `the RTMPS publish to be ready (ffmpeg: ${publisher.stderr()})`);
});

after(async () => {
  await page?.close();
  await browser?.close();
  await publisher?.stop();
  if (run && run.child.exitCode === null) {
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 5000);
    await run.exited;
    clearTimeout(timer);
  }
  for (const d of [dir, pkiA?.dir, pkiB?.dir]) if (d) rmSync(d, { recursive: true, force: true });
});

test('ffprobe plays rtmps://, https://...flv, https://.../index.m3u8 and rtsps:// with the certificate verified', async () => {
  const urls = [
    `rtmps://127.0.0.1:${ports.rtmps}/${PATH}`,
    `https://127.0.0.1:${ports.https}/${PATH}.flv`,
    `https://127.0.0.1:${ports.https}/${PATH}/index.m3u8`,
    `rtsps://127.0.0.1:${ports.rtsps}/${PATH}`,
  ];
  const probes = await Promise.all(urls.map((url) => ffprobeJson(url, verifyWith(pkiA), 30_000)));
  probes.forEach((probe, i) => {
    assert.equal(probe.code, 0, `${urls[i]}: ${probe.stderr}`);
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264'], `${urls[i]} has H.264 and AAC`);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.width, 640);
  });
  const rtsps = opensslVerifies(ports.rtsps, pkiA);
  assert.ok(rtsps.ok, `the RTSPS certificate verifies against the test CA: ${rtsps.output}`);
});

test('a certificate from another CA, or for another host, is refused with verification on', async () => {
  const cases = [
    { url: `rtmps://127.0.0.1:${ports.rtmps}/${PATH}`, args: verifyWith(pkiB) },
    { url: `https://127.0.0.1:${ports.https}/${PATH}.flv`, args: verifyWith(pkiB) },
    { url: `https://127.0.0.1:${ports.https}/${PATH}/index.m3u8`, args: verifyWith(pkiA, 'wrong.example') },
    { url: `rtmps://127.0.0.1:${ports.rtmps}/${PATH}`, args: verifyWith(pkiA, 'wrong.example') },
  ];
  const probes = await Promise.all(cases.map((c) => ffprobeJson(c.url, c.args, 20_000)));
  probes.forEach((probe, i) => {
    assert.notEqual(probe.code, 0, `${cases[i]!.url} ${cases[i]!.args.join(' ')} was refused`);
    assert.match(probe.stderr, /certificate failed verification|owner does not match hostname/i, cases[i]!.url);
    assert.equal(probe.streams.length, 0);
  });
  assert.equal(opensslVerifies(ports.rtsps, pkiB).ok, false, 'RTSPS: another CA does not verify it');
  assert.equal(opensslVerifies(ports.rtsps, pkiA, 'wrong.example').ok, false, 'RTSPS: another host name does not match');
  assert.ok(await streamReady(), 'refused clients cost the stream nothing');
});

/** mpegts.js on wss:// in a page that says what it plays (for the screenshot). */
async function playWss(target: Page, url: string): Promise<() => Promise<MpegtsState>> {
  await target.setContent(`<p id="url"></p><video id="v" muted autoplay playsinline width="640" height="360"></video>`);
  await target.locator('#url').evaluate((p, text) => (p.textContent = text), `${url} (certificate ${fingerprintOf(pkiA).slice(0, 23)}...)`);
  return playFlvWithMpegts(target, url);
}

let sampleWss: (() => Promise<MpegtsState>) | undefined;

test('Chromium trusting exactly this certificate (SPKI pin) loads the https:// origin and mpegts.js plays wss://', async () => {
  browser = await launchChromium([`--ignore-certificate-errors-spki-list=${spkiOf(pkiA)}`]);
  page = await browser.newPage();
  const health = await page.goto(`https://127.0.0.1:${ports.https}/api/health`);
  assert.equal(health?.status(), 200, 'the https:// page loads: the certificate is trusted');
  const sample = await playWss(page, `wss://127.0.0.1:${ports.https}/${PATH}.flv`);
  sampleWss = sample;
  const first = await waitFor(
    async () => {
      const s = await sample();
      return s.frames >= 5 ? s : false;
    },
    15_000,
    'mpegts.js to decode over wss://',
  );
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const second = await sample();
  assert.ok(second.frames >= first.frames + 25, `frames went from ${first.frames} to ${second.frames} in 2 s`);
  assert.equal(second.width, 640);
  assert.deepEqual(second.errors, []);
  await saveScreenshot(page, 'tls-wss-playing');
});

test('SIGHUP with a new certificate: open RTMPS and WSS sessions keep playing, new connections get the new one', async () => {
  assert.equal(await servedFingerprint(ports.rtmps), fingerprintOf(pkiA));
  const viewer = startViewer(`rtmps://127.0.0.1:${ports.rtmps}/${PATH}`, pkiA);
  try {
    await waitFor(() => viewer.frames() >= 10, 15_000, 'the RTMPS viewer to decode');
    const publisherBefore = (await streamReady()) || undefined;
    copyFileSync(pkiB.certFile, join(dir, 'cert.pem'));
    copyFileSync(pkiB.keyFile, join(dir, 'key.pem'));
    run.child.kill('SIGHUP');
    const reloaded = await waitFor(() => logLines(run).find((l) => l.msg === 'TLS certificate loaded' && l.reason === 'SIGHUP'), 5000, 'the reload log line');
    assert.equal(reloaded.certificate?.fingerprint256, fingerprintOf(pkiB));
    for (const port of [ports.https, ports.rtmps, ports.rtsps]) assert.equal(await servedFingerprint(port), fingerprintOf(pkiB), `port ${port} serves the new certificate`);
    const [oldTrust, newTrust] = await Promise.all([
      ffprobeJson(`rtmps://127.0.0.1:${ports.rtmps}/${PATH}`, verifyWith(pkiA), 20_000),
      ffprobeJson(`https://127.0.0.1:${ports.https}/${PATH}.flv`, verifyWith(pkiB), 20_000),
    ]);
    assert.notEqual(oldTrust.code, 0, 'a new client trusting only the old CA is refused');
    assert.equal(newTrust.code, 0, `a new client trusting the new CA plays: ${newTrust.stderr}`);
    assert.ok(opensslVerifies(ports.rtsps, pkiB).ok, 'RTSPS verifies against the new CA');
    // Chromium pins the old certificate's key only: a fresh context (its own connections) refuses the new one.
    const fresh = await browser!.newContext();
    try {
      await assert.rejects((await fresh.newPage()).goto(`https://127.0.0.1:${ports.https}/api/health`), /ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await fresh.close();
    }

    const before = viewer.frames();
    const wssBefore = (await sampleWss?.())?.frames ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.ok(viewer.alive(), 'the RTMPS viewer from before the reload is still connected');
    assert.ok(viewer.frames() >= before + 25, `the RTMPS viewer kept decoding: ${before} -> ${viewer.frames()} frames in 2 s`);
    const wssAfter = await sampleWss?.();
    assert.ok(wssAfter && wssAfter.frames >= wssBefore + 25, `the WSS page kept playing: ${wssBefore} -> ${wssAfter?.frames}`);
    const publisherAfter = await streamReady();
    assert.ok(publisherAfter, 'the RTMPS publisher is still publishing');
    assert.equal(publisherAfter.publisher?.id, publisherBefore?.publisher?.id, 'the same publisher session');
  } finally {
    await viewer.stop();
  }
});

test('a bad new pair on SIGHUP is logged and the current certificate stays', async () => {
  writeFileSync(join(dir, 'key.pem'), readFileSync(pkiA.keyFile)); // pkiB's certificate with pkiA's key
  run.child.kill('SIGHUP');
  await waitFor(() => logLines(run).find((l) => l.msg?.startsWith('TLS certificate reload failed') && l.reason === 'SIGHUP'), 5000, 'the failed reload log line');
  assert.equal(await servedFingerprint(ports.rtmps), fingerprintOf(pkiB), 'still the certificate loaded last');
  assert.ok(await streamReady());
});

test('no log line carries the private key', () => {
  const output = run.out() + run.err();
  assert.doesNotMatch(output, /PRIVATE KEY/);
  for (const pki of [pkiA, pkiB]) {
    const body = readFileSync(pki.keyFile, 'utf8')
      .split('\n')
      .filter((line) => line.length > 40 && !line.startsWith('-----'));
    for (const line of body) assert.ok(!output.includes(line), 'a line of the key appears in the output');
  }
});

test('a TLS listener whose certificate file cannot be read stops the start with a clear error', async () => {
  const failing = runGateway({ ...gatewayEnv(dir, join(dir, 'missing.pem'), join(dir, 'key.pem')), GW_STORAGE_DIR: join(dir, 'storage-2') });
  const code = await failing.exited;
  assert.equal(code, 1);
  assert.match(failing.err(), /config key "tls\.cert": cannot read .*missing\.pem: ENOENT/);
});

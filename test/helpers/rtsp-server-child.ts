/**
 * Runs one third-party RTSP server from npm in its own process, so that a test can kill it
 * mid-stream and start it again, and so that its module-level state stays out of the test
 * process. Started by test/helpers/rtsp-server.ts; argv[2] is a JSON ChildConfig. Prints one
 * line `READY {"publishPort":..,"playPort":..}` when listening.
 *
 * Every socket the server opens is forced onto 127.0.0.1 (both packages bind all interfaces).
 *
 * The servers:
 * - rtsp-streaming-server (npm, GPL-3.0): publish port takes ANNOUNCE/RECORD (ffmpeg), play port
 *   serves DESCRIBE/SETUP/PLAY over UDP only, Basic auth through its `authentication` hook.
 *   It has no Digest: for the Digest tests its check method is replaced by the small verifier
 *   below (RFC 7616 arithmetic with node:crypto, written for the tests, independent of
 *   src/protocols/rtsp/auth.ts).
 * - node-rtsp-rtmp-server (npm, MIT): one port for publishing (ANNOUNCE/RECORD over TCP) and
 *   playing over TCP interleaved.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ChildConfig {
  kind: 'rtsp-streaming-server' | 'node-rtsp-rtmp-server';
  /** 0 for any; a restart passes the ports of the first run. */
  publishPort: number;
  playPort: number;
  /** rtsp-streaming-server: start of its UDP port range. */
  rtpPortStart?: number;
  auth?: { username: string; password: string; scheme: 'basic' | 'digest'; algorithm?: 'MD5' | 'SHA-256'; qop?: boolean };
}

const LOOPBACK = '127.0.0.1';

function forceLoopback(): void {
  const listen = net.Server.prototype.listen as (...args: unknown[]) => net.Server;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    if (typeof args[0] === 'number') {
      if (typeof args[1] === 'string') args[1] = LOOPBACK;
      else args.splice(1, 0, LOOPBACK);
    }
    return listen.apply(this, args);
  } as typeof net.Server.prototype.listen;
  const bind = dgram.Socket.prototype.bind as (...args: unknown[]) => dgram.Socket;
  dgram.Socket.prototype.bind = function (this: dgram.Socket, ...args: unknown[]) {
    if (typeof args[0] === 'number') {
      if (typeof args[1] === 'string') args[1] = LOOPBACK;
      else args.splice(1, 0, LOOPBACK);
    }
    return bind.apply(this, args);
  } as typeof dgram.Socket.prototype.bind;
}

function hash(algorithm: string, text: string): string {
  return createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
    .update(text)
    .digest('hex');
}

interface RtspReq {
  method: string;
  uri: string;
  headers: Record<string, string | undefined>;
}
interface RtspRes {
  statusCode: number;
  setHeader(name: string, value: string): void;
}

/** Checks a Digest Authorization the way RFC 7616 §3.4.1 computes it. */
function digestChecker(auth: NonNullable<ChildConfig['auth']>): (req: RtspReq, res: RtspRes) => Promise<boolean> {
  const realm = 'rtsp-test';
  const nonce = randomBytes(12).toString('hex');
  const algorithm = auth.algorithm ?? 'MD5';
  const challenge = `Digest realm="${realm}", nonce="${nonce}"${auth.algorithm ? `, algorithm=${algorithm}` : ''}${auth.qop ? ', qop="auth"' : ''}`;
  return async (req, res) => {
    const value = req.headers['authorization'] ?? '';
    const params = new Map<string, string>();
    for (const m of value.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) params.set(m[1]!.toLowerCase(), m[2] ?? m[3]!);
    const ha1 = hash(algorithm, `${auth.username}:${realm}:${auth.password}`);
    const ha2 = hash(algorithm, `${req.method}:${params.get('uri') ?? ''}`);
    const expected = auth.qop ? hash(algorithm, `${ha1}:${nonce}:${params.get('nc') ?? ''}:${params.get('cnonce') ?? ''}:auth:${ha2}`) : hash(algorithm, `${ha1}:${nonce}:${ha2}`);
    const ok =
      value.startsWith('Digest ') &&
      params.get('username') === auth.username &&
      params.get('nonce') === nonce &&
      params.get('uri') === req.uri &&
      params.get('response') === expected;
    if (!ok) {
      res.setHeader('WWW-Authenticate', challenge);
      res.statusCode = 401;
    }
    return ok;
  };
}

async function startRtspStreamingServer(config: ChildConfig): Promise<{ publishPort: number; playPort: number }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require('rtsp-streaming-server') as {
    default: new (options: object) => { start(): Promise<void>; PublishServer: { server: net.Server }; ClientServer: { server: net.Server } };
    ClientServer: { prototype: { checkAuthenticated: unknown } };
  };
  const auth = config.auth;
  const hooks = auth?.scheme === 'basic' ? { authentication: async (user: string, pass: string) => user === auth.username && pass === auth.password } : {};
  if (auth?.scheme === 'digest') lib.ClientServer.prototype.checkAuthenticated = digestChecker(auth);
  const server = new lib.default({
    serverPort: config.publishPort,
    clientPort: config.playPort,
    rtpPortStart: config.rtpPortStart ?? 30_000,
    rtpPortCount: 200,
    clientServerHooks: hooks,
  });
  await server.start();
  return { publishPort: (server.PublishServer.server.address() as net.AddressInfo).port, playPort: (server.ClientServer.server.address() as net.AddressInfo).port };
}

function startNodeRtspRtmpServer(config: ChildConfig): Promise<{ publishPort: number; playPort: number }> {
  const base = dirname(require.resolve('node-rtsp-rtmp-server/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const logger = require(join(base, 'logger.js')) as { setLevel(level: number): void; LEVEL_WARN: number };
  logger.setLevel(logger.LEVEL_WARN);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const serverConfig = require(join(base, 'config.js')) as Record<string, unknown>;
  const dir = mkdtempSync(join(tmpdir(), 'nrr-'));
  Object.assign(serverConfig, {
    serverPort: config.playPort,
    rtmpServerPort: 0,
    recordedDir: null,
    enableRTMPT: false,
    videoControlReceiverPath: join(dir, 'vc'),
    audioControlReceiverPath: join(dir, 'ac'),
    videoDataReceiverPath: join(dir, 'vd'),
    audioDataReceiverPath: join(dir, 'ad'),
    audioRTPServerPort: 0,
    audioRTCPServerPort: 0,
    videoRTPServerPort: 0,
    videoRTCPServerPort: 0,
    rtspVideoDataUDPListenPort: 0,
    rtspVideoControlUDPListenPort: 0,
    rtspAudioDataUDPListenPort: 0,
    rtspAudioControlUDPListenPort: 0,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const StreamServer = require(join(base, 'stream_server.js')) as new () => {
    setLivePathConsumer(fn: (uri: string, cb: (err: Error | null) => void) => void): void;
    start(cb: () => void): void;
    rtspServer: { server: net.Server };
  };
  const server = new StreamServer();
  server.setLivePathConsumer((_uri, cb) => cb(null));
  return new Promise((resolve) => {
    server.start(() => undefined);
    const check = (): void => {
      const address = server.rtspServer.server.address() as net.AddressInfo | null;
      if (address) resolve({ publishPort: address.port, playPort: address.port });
      else setTimeout(check, 20);
    };
    check();
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
  forceLoopback();
  const ports = config.kind === 'rtsp-streaming-server' ? await startRtspStreamingServer(config) : await startNodeRtspRtmpServer(config);
  process.stdout.write(`READY ${JSON.stringify(ports)}\n`);
  // The parent going away ends us too.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`rtsp server child failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  });
}

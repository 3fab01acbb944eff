import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { GatewayError, errorMessage } from '../core/errors';
import type { Logger } from '../core/log';
import type { Source } from '../core/source';
import type { Registry } from '../hub/registry';
import { assertStreamPath } from '../hub/path';
import type { PortPool } from '../../rtp/net/port-pool';
import { RtpReceiver } from '../../rtp/net/rtp-receiver';
import type { StreamMode } from '../core/gb28181';
import type { OpenRtpRequest, RtpServerInfo } from '../api/rtp';
import { LazyPublisher } from './lazy-publisher';

export interface RtpServersOptions {
  registry: Registry;
  pool?: PortPool;
  host: string;
  timeoutMs: number;
  ssrcCheck: boolean;
  dumpDir: string;
  log: Logger;
  /** Share of the port pool receivers opened through the API may hold (the rest stays for GB28181). */
  apiShare?: number;
  /** Size cap of one dump file. */
  dumpMaxBytes?: number;
  /** Called when a receiver is refused for the API's share of the pool. */
  refused?: (details: object) => void;
}

/** Receivers the API may open when there is no port pool (the OS picks ports). */
const API_RECEIVERS_WITHOUT_POOL = 500;

interface Entry {
  receiver: RtpReceiver;
  openedAt: number;
  dumpPath?: string;
}

/**
 * RTP receivers opened through the API for a given stream path: the role ZLMediaKit's
 * openRtpServer plays for wvp, so a user's own SIP platform can drive the gateway. Media is
 * published on the first accepted packet; `rtp.timeout` without packets closes the receiver.
 */
export class RtpServers {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: RtpServersOptions) {}

  async open(request: OpenRtpRequest): Promise<{ path: string; port: number; transport: StreamMode }> {
    const path = assertStreamPath(request.path);
    if (this.entries.has(path)) throw new GatewayError('STREAM_BUSY', `an RTP receiver is already open for ${path}`);
    if (this.options.registry.get(path)?.publisher) throw new GatewayError('STREAM_BUSY', `stream ${path} already has a publisher`);
    const cap = this.apiCap();
    if (this.entries.size >= cap) {
      this.options.refused?.({ open: this.entries.size, cap });
      throw new GatewayError('UNAVAILABLE', `RTP receivers opened through the API are at their cap of ${cap} (rtp.apiShare of the port pool; the rest is kept for GB28181)`);
    }
    if (request.transport === 'tcp-active' && !request.peer) throw new GatewayError('BAD_REQUEST', 'tcp-active needs peer {host, port} to connect to');
    await this.options.registry.admission.admit({ action: 'publish', path, protocol: 'rtp', query: {}, internal: true });
    if (this.entries.has(path)) throw new GatewayError('STREAM_BUSY', `an RTP receiver is already open for ${path}`);
    const log = this.options.log.child({ stream: path, transport: request.transport });
    let receiver: RtpReceiver | undefined;
    const source: Source = {
      kind: 'rtp',
      get remote() {
        return receiver?.stats().peer;
      },
      close: (reason) => this.close(path, reason),
    };
    const publisher = new LazyPublisher(
      this.options.registry,
      path,
      source,
      () => log.info('first RTP packet: publishing'),
      (reason) => this.close(path, `cannot publish: ${reason}`),
    );
    let dumpPath: string | undefined;
    if (request.dump) {
      mkdirSync(this.options.dumpDir, { recursive: true });
      dumpPath = join(this.options.dumpDir, `${path.replace('/', '_')}-${Date.now()}.rtp`);
    }
    const esPayloadTypes = request.payloadTypes ? Object.fromEntries(Object.entries(request.payloadTypes).map(([pt, map]) => [Number(pt), map])) : undefined;
    receiver = new RtpReceiver({
      transport: request.transport,
      publisher,
      logger: log,
      ...(this.options.pool ? { pool: this.options.pool } : { port: 0 }),
      host: this.options.host,
      ssrc: request.ssrc,
      ssrcCheck: request.ssrcCheck ?? this.options.ssrcCheck,
      peer: request.peer,
      timeoutMs: this.options.timeoutMs,
      dumpPath,
      ...(this.options.dumpMaxBytes ? { dumpMaxBytes: this.options.dumpMaxBytes } : {}),
      ingest: esPayloadTypes ? { esPayloadTypes } : undefined,
    });
    const entry: Entry = { receiver, openedAt: Date.now(), dumpPath };
    this.entries.set(path, entry);
    receiver.on('closed', (reason) => {
      if (this.entries.get(path) === entry) this.entries.delete(path);
      publisher.end(reason);
      log.info({ reason }, 'RTP receiver closed');
    });
    try {
      const { port } = await receiver.open();
      log.info({ port, ssrc: request.ssrc }, 'RTP receiver open');
      return { path, port, transport: request.transport };
    } catch (err) {
      receiver.close(`open failed: ${errorMessage(err)}`);
      throw new GatewayError('SOURCE_START_FAILED', `cannot open an RTP receiver for ${path}: ${errorMessage(err)}`);
    }
  }

  close(path: string, reason = 'closed through the API'): boolean {
    const entry = this.entries.get(path);
    if (!entry) return false;
    this.entries.delete(path);
    entry.receiver.close(reason);
    return true;
  }

  list(): RtpServerInfo[] {
    return [...this.entries].map(([path, entry]) => ({ ...entry.receiver.stats(), path, openedAt: entry.openedAt, dumpPath: entry.dumpPath }));
  }

  private apiCap(): number {
    const pool = this.options.pool;
    if (!pool) return API_RECEIVERS_WITHOUT_POOL;
    return Math.max(1, Math.floor(pool.size * (this.options.apiShare ?? 0.5)));
  }

  closeAll(reason: string): void {
    for (const path of [...this.entries.keys()]) this.close(path, reason);
  }
}

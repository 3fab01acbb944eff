/**
 * The internal pull between two workers: the owner serves its stream as HTTP-FLV on its private
 * loopback port (the shared FLV tags, hub rule 9: nothing muxed for it alone), and the worker
 * with viewers reads it with the relay's HttpFlvPull into a local publisher of kind `cluster`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { GatewayError, errorBody, errorMessage, httpStatusOf } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Publisher, Source } from '../../core/source';
import type { StreamInfo } from '../../core/sink';
import { FLV_TAG_FEEDS } from '../../formats/flv/viewer-muxer';
import type { OnDemandSource } from '../../hub/demand';
import type { Registry } from '../../hub/registry';
import { HttpFlvPull, type HttpFlvPullError } from '../../protocols/http-flv/pull';
import { HttpFlvSink } from '../../protocols/http-flv/http-flv-sink';
import { keepReadyTracks } from '../rtsp-proxy/proxy';
import { CLUSTER_PROTOCOL } from './merge';
import { CLUSTER_KEY_HEADER, answerForwarded } from './forward';
import type { FastifyInstance } from 'fastify';

const PATH = /^\/([A-Za-z0-9_.-]{1,64})\/([A-Za-z0-9_.-]{1,64})\.flv$/;

/** An HTTP-FLV viewer that is another worker: counted for demand, left out of the API's numbers. */
class ClusterFlvSink extends HttpFlvSink {
  override describe(): ReturnType<HttpFlvSink['describe']> {
    return { ...super.describe(), protocol: CLUSTER_PROTOCOL };
  }
}

function keyMatches(given: string | null, key: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface PrivateServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a port of this worker alone) for internal pulls carrying the cluster key. */
export async function listenPrivate(registry: Registry, key: string, log: Logger, http?: FastifyInstance): Promise<PrivateServer> {
  const server: Server = createServer((req, res) => void serve(req, res));
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://internal');
    if (http && url.pathname.startsWith('/api/') && keyMatches(String(req.headers[CLUSTER_KEY_HEADER] ?? ''), key)) return answerForwarded(http, req, res);
    const match = PATH.exec(url.pathname);
    if (req.method !== 'GET' || !match) return void res.writeHead(404).end();
    if (!keyMatches(url.searchParams.get('key'), key)) return void res.writeHead(403).end();
    const path = `${match[1]}/${match[2]}`;
    const socket = req.socket;
    const aborted = new AbortController();
    socket.once('close', () => aborted.abort());
    const sink = new ClusterFlvSink(
      socket,
      (info: StreamInfo) => info.feed(FLV_TAG_FEEDS.enhanced),
      '',
      `127.0.0.1:${socket.remotePort ?? 0}`,
      () => undefined,
    );
    try {
      const subscription = await registry.subscribe(path, sink, { signal: aborted.signal });
      socket.once('close', () => subscription.close('the other worker left'));
      if (socket.destroyed) subscription.close('the other worker left');
    } catch (err) {
      if (!socket.destroyed && !res.headersSent) res.writeHead(httpStatusOf(err), { 'content-type': 'application/json' }).end(JSON.stringify(errorBody(err)));
      log.debug({ path, err: errorMessage(err) }, 'internal pull refused');
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: in a cluster worker a listen is otherwise shared with every worker through the primary.
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface InternalPullDeps {
  readonly registry: Registry;
  readonly log: Logger;
  /** The cluster key the private ports ask for. */
  readonly key: string;
  /**
   * Where the path is served now that `lost` (the owner's address) went away: another owner's
   * address, a source started in this worker (the path was placed here again), or undefined
   * while no worker owns it.
   */
  readonly locate: (path: string, lost: string) => Promise<string | OnDemandSource | undefined>;
  readonly connectTimeoutMs: number;
  readonly stallTimeoutMs: number;
  /** How long a lost owner is looked for again (the hub's reconnect grace). */
  readonly graceMs: number;
}

const RETRY_MS = 500;

/** One stream read from its owner; reconnects to the path's owner (found again) within the grace. */
export class InternalPull implements OnDemandSource {
  private pull: HttpFlvPull | undefined;
  /** The owner's address it reads from. */
  private address = '';
  /** The source that serves the path in this worker since its owner died (locate placed it here). */
  private taken: OnDemandSource | undefined;
  private publisher: Publisher | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly path: string,
    private readonly deps: InternalPullDeps,
  ) {}

  /** Resolves when the owner answered with FLV; rejects with its reason. */
  start(address: string): Promise<void> {
    this.address = address;
    const source: Source = { kind: CLUSTER_PROTOCOL, remote: address, close: (reason) => void this.stop(reason) };
    const pull: HttpFlvPull = new HttpFlvPull({
      url: `${address}/${this.path}.flv?key=${this.deps.key}`,
      log: this.deps.log,
      connectTimeoutMs: this.deps.connectTimeoutMs,
      stallTimeoutMs: this.deps.stallTimeoutMs,
      openPublisher: () => this.open(source),
      onClose: (err) => this.lost(pull, err),
    });
    this.pull = pull;
    return pull.start();
  }

  async stop(reason: string): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.publisher?.end(reason);
    await Promise.all([this.pull?.close(reason), this.taken?.stop(reason)]);
  }

  private open(source: Source): Publisher {
    const previous = this.deps.registry.get(this.path)?.tracks ?? [];
    this.publisher = this.deps.registry.publish(this.path, source);
    return keepReadyTracks(this.publisher, previous);
  }

  /** The owner went away: its viewers here wait out the grace while the path's owner is looked up again. */
  private lost(pull: HttpFlvPull, err: HttpFlvPullError): void {
    if (pull !== this.pull || this.stopped) return;
    this.publisher?.end(`internal pull lost: ${err.message}`);
    this.deps.log.warn({ path: this.path, err: err.message }, 'internal pull lost its owner: looking again');
    const giveUpAt = Date.now() + this.deps.graceMs;
    const lostAddress = this.address;
    const again = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        const found = await this.deps.locate(this.path, lostAddress);
        if (!found) throw new GatewayError('STREAM_NOT_FOUND', 'no owner');
        if (typeof found !== 'string') {
          if (this.stopped) return void found.stop('the internal pull stopped meanwhile');
          this.taken = found;
          this.deps.log.info({ path: this.path }, 'internal pull: its owner died, the stream is served in this worker now');
          return;
        }
        await this.start(found);
        this.deps.log.info({ path: this.path, owner: found }, 'internal pull back');
      } catch {
        if (Date.now() < giveUpAt) this.retry = setTimeout(() => void again(), RETRY_MS);
      }
    };
    this.retry = setTimeout(() => void again(), RETRY_MS);
  }
}

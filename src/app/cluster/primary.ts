/**
 * The cluster primary: builds no gateway. It forks one worker per slot (slot 1 alone first:
 * migrations, secrets, recovery), keeps the stream directory, answers the workers' directory
 * and gather requests, relays reload broadcasts, and starts a dead worker's slot again.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type pino from 'pino';
import { GatewayError, errorMessage } from '../../core/errors';
import { pathPatternToRegExp } from '../../hub/path';
import type { ClusterDto, ClusterWorkerDto } from '../../api/cluster';
import { InProcessDirectory, type PlaceRequest } from './directory';
import { ENV } from './env';
import { IpcPeer, type IpcChannel } from './ipc';
import type { LocalOp } from './worker';
import type { WorkerPart } from './merge';

interface Slot {
  readonly slot: number;
  worker?: Worker;
  peer?: IpcPeer;
  ready: boolean;
  restarts: number;
  startedAt: number;
  backoffMs: number;
  onReady?: () => void;
  onFirstExit?: (why: string) => void;
}

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 10_000;
/** A worker that lived this long gets the shortest backoff again. */
const STABLE_MS = 30_000;

export interface PrimaryOptions {
  readonly workers: number;
  readonly log: pino.Logger;
  /** How long a worker gets to stop on SIGTERM before SIGKILL, ms. */
  readonly stopTimeoutMs: number;
}

export class ClusterPrimary {
  private readonly slots = new Map<number, Slot>();
  private readonly key = randomBytes(24).toString('hex');
  private readonly directory: InProcessDirectory;
  private broadcastQueued = false;
  private stopping = false;

  constructor(private readonly options: PrimaryOptions) {
    this.directory = new InProcessDirectory(() => this.queueDirectoryBroadcast());
    // Round-robin hand-off by the primary even when NODE_CLUSTER_SCHED_POLICY=none is set: the
    // kernel's wake-one accept piles connections onto whichever worker is awake (the busiest).
    cluster.schedulingPolicy = cluster.SCHED_RR;
    cluster.setupPrimary({ serialization: 'advanced' });
  }

  /** Slot 1 first, then the others; resolves with the ports once every worker listens. */
  async start(): Promise<Record<string, number>> {
    let ports: Record<string, number> = {};
    for (let slot = 1; slot <= this.options.workers; slot++) this.slots.set(slot, { slot, ready: false, restarts: 0, startedAt: 0, backoffMs: RESTART_MIN_MS });
    const first = this.slots.get(1)!;
    // Slot 1 failing before it is ready (a bad TLS file, a port taken) is a failed start, not a crash to retry.
    const failed = new Promise<never>((_, reject) => (first.onFirstExit = (why) => reject(new Error(`worker 1 exited before it was ready: ${why}`))));
    await Promise.race([this.fork(first, true, (p) => (ports = p)), failed]);
    first.onFirstExit = undefined;
    await Promise.all([...this.slots.values()].filter((s) => s.slot !== 1).map((s) => this.fork(s, false)));
    this.options.log.info({ ports, workers: this.options.workers, pids: [...this.slots.values()].map((s) => s.worker?.process.pid) }, 'gateway listening');
    return ports;
  }

  /** Passes a signal on to every worker (SIGHUP: re-read the TLS certificates). */
  signalWorkers(signal: NodeJS.Signals): void {
    for (const s of this.slots.values()) if (s.worker && !s.worker.isDead()) s.worker.process.kill(signal);
  }

  /** SIGTERM to every worker, SIGKILL to those still there after the timeout. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.slots.values()].map(async (s) => {
        const worker = s.worker;
        if (!worker || worker.isDead()) return;
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        worker.process.kill('SIGTERM');
        const timer = setTimeout(() => worker.process.kill('SIGKILL'), this.options.stopTimeoutMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private fork(slot: Slot, first: boolean, onPorts?: (ports: Record<string, number>) => void): Promise<void> {
    const worker = cluster.fork({ [ENV.slot]: String(slot.slot), [ENV.workers]: String(this.options.workers), [ENV.key]: this.key, [ENV.first]: first ? '1' : '0' });
    const peer = new IpcPeer(worker as unknown as IpcChannel);
    slot.worker = worker;
    slot.peer = peer;
    slot.ready = false;
    slot.startedAt = Date.now();
    const ready = new Promise<void>((resolve) => (slot.onReady = resolve));
    peer.handle('ready', (body) => {
      const info = body as { privatePort: number; serves: string[]; signalling?: boolean; ports?: Record<string, number> };
      this.directory.addWorker({
        slot: slot.slot,
        address: `http://127.0.0.1:${info.privatePort}`,
        serves: info.serves.map((p) => pathPatternToRegExp(p)),
        ...(info.signalling ? { signalling: true } : {}),
      });
      slot.ready = true;
      if (info.ports) onPorts?.(info.ports);
      this.options.log.info({ slot: slot.slot, pid: worker.process.pid }, 'cluster worker ready');
      slot.onReady?.();
      this.queueDirectoryBroadcast();
      return {};
    });
    this.answerWorker(peer, slot.slot);
    worker.once('exit', (code, signal) => this.exited(slot, worker, code, signal));
    return ready;
  }

  private answerWorker(peer: IpcPeer, slot: number): void {
    const dir = this.directory;
    peer.handle('dir.lookup', async (body) => (await dir.lookup((body as { path: string }).path)) ?? null);
    peer.handle('dir.place', async (body) => (await dir.place(body as PlaceRequest)) ?? null);
    peer.handle('dir.register', (body) => dir.register((body as { path: string }).path, slot));
    peer.handle('dir.unregister', (body) => dir.unregister((body as { path: string }).path, slot));
    peer.handle('dir.list', () => dir.list());
    peer.handle('dir.hold', (body) => dir.hold((body as { path: string }).path, slot));
    peer.handle('dir.release', (body) => dir.release((body as { path: string }).path, slot));
    peer.handle('gather', (body) => this.gather(body as { op: LocalOp; arg?: string }));
    peer.handle('one', (body) => {
      const { slot: target, op, arg } = body as { slot: number; op: LocalOp; arg?: string };
      const peerOf = this.slots.get(target);
      return peerOf?.ready && peerOf.peer ? peerOf.peer.request('local', { op, arg }) : [false];
    });
    peer.handle('status', () => this.status());
    // Worker to worker (the GB28181 media receivers of slot 1's INVITEs, gb-media.ts): the target answers, `from` says who asked.
    peer.handle('relay', (body) => {
      const { slot: target, op, body: inner, timeoutMs } = body as { slot: number; op: string; body: object; timeoutMs?: number };
      const to = this.slots.get(target);
      if (!to?.ready || !to.peer) throw new GatewayError('UNAVAILABLE', `cluster worker ${target} is not up`);
      return to.peer.request(op, { ...inner, from: slot }, timeoutMs);
    });
    peer.onEvent('relayEvent', (body) => {
      const { slot: target, op, body: inner } = body as { slot: number; op: string; body: object };
      const to = this.slots.get(target);
      if (to?.ready) to.peer?.emit(op, { ...inner, from: slot });
    });
    peer.onEvent('broadcast', (body) => {
      for (const other of this.slots.values()) if (other.slot !== slot && other.ready) other.peer?.emit('reload', body);
    });
  }

  private async gather(request: { op: LocalOp; arg?: string }): Promise<WorkerPart<unknown>[]> {
    const ready = [...this.slots.values()].filter((s) => s.ready && s.peer);
    return Promise.all(
      ready.map(async (s) => {
        try {
          return { slot: s.slot, items: await s.peer!.request<unknown[]>('local', request) };
        } catch (err) {
          this.options.log.warn({ slot: s.slot, op: request.op, err: errorMessage(err) }, 'a worker did not answer');
          return { slot: s.slot, items: [] };
        }
      }),
    );
  }

  private async status(): Promise<Omit<ClusterDto, 'answeredBy'>> {
    const stats = new Map((await this.gather({ op: 'stats' })).map((part) => [part.slot, part.items[0] as { cpuMs: number; rss: number } | undefined]));
    const workers: ClusterWorkerDto[] = [...this.slots.values()].map((s) => ({
      slot: s.slot,
      pid: s.worker?.process.pid ?? 0,
      ready: s.ready,
      restarts: s.restarts,
      ownedStreams: this.directory.owned(s.slot),
      ...stats.get(s.slot),
    }));
    return { workers, directory: this.directory.snapshot().map(({ path, owner, state, since }) => ({ path, owner, state, since })) };
  }

  private exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.peer?.close('the worker exited');
    slot.ready = false;
    if (slot.onFirstExit) {
      this.stopping = true;
      return slot.onFirstExit(signal ?? `code ${code}`);
    }
    const dropped = this.directory.dropWorker(slot.slot);
    // What the others did with it (receivers of its INVITEs, INVITEs for its receivers) ends now.
    for (const other of this.slots.values()) if (other.ready) other.peer?.emit('worker.gone', { slot: slot.slot });
    if (this.stopping) return;
    const lived = Date.now() - slot.startedAt;
    slot.backoffMs = lived >= STABLE_MS ? RESTART_MIN_MS : Math.min(RESTART_MAX_MS, slot.backoffMs * 2);
    const delay = lived >= STABLE_MS ? RESTART_MIN_MS : slot.backoffMs;
    this.options.log.error({ slot: slot.slot, pid: worker.process.pid, code, signal, dropped, restartInMs: delay }, 'cluster worker died: starting it again');
    setTimeout(() => {
      if (this.stopping) return;
      slot.restarts++;
      this.fork(slot, false).catch(() => undefined);
    }, delay);
  }

  private queueDirectoryBroadcast(): void {
    if (this.broadcastQueued) return;
    this.broadcastQueued = true;
    setImmediate(() => {
      this.broadcastQueued = false;
      const body = { entries: this.directory.snapshot(), workers: this.directory.workerAddresses() };
      for (const s of this.slots.values()) if (s.ready) s.peer?.emit('directory', body);
    });
  }
}

/**
 * GB28181 media placed by load (docs/architecture.md "Every core"): SIP and its dialogs stay in
 * slot 1, but the RTP receiver of an INVITE is opened on the worker the directory placed the
 * channel's path on (the fewest owned streams), and the SDP names that worker's port. That
 * worker owns the stream; viewers elsewhere reach it through the internal pull.
 *
 * - every worker: `media.open` / `media.call` open and drive a local receiver for slot 1 and
 *   report its first packet, silence, close and counters back (`media.event`, `media.stats`).
 * - a worker without SIP: the on-demand factory of `rtp/*` asks slot 1 for the INVITE (`gb.start`,
 *   `gb.stop`) with the receiver here; slot 1 asks it for its readers and ends its stream.
 * - slot 1: `gb.start` runs `GbBridge.startFor` with a `GbStreamHost` of the asking worker.
 * - a worker that dies: slot 1 ends (BYE) the INVITEs whose receiver it held; the workers close
 *   the receivers of a dead slot 1 (its restart BYEs the dialogs it left, GbServer.listen).
 */
import { GatewayError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Registry } from '../../hub/registry';
import type { OnDemandSource } from '../../hub/demand';
import type { GbMediaFactory, GbMediaOpenOptions, GbMediaReceiver, GbMediaStats } from '../gb-bridge/media';
import { GB_APP, parseGbPath, type GbBridge, type GbStreamHost } from '../gb-bridge/bridge';
import type { IpcPeer } from './ipc';
import type { Gateway } from '../build';
import { createRtpMediaFactory } from '../gb-bridge/rtp-media';

/** The worker with SIP (GbServer, its dialogs): GB28181 INVITEs are sent there. */
export const SIP_SLOT = 1;
const STATS_EVERY_MS = 1000;
const CALL_TIMEOUT_MS = 10_000;
/** After a pull ended by itself, a reader coming back starts it again at most this often. */
const RESTART_GAP_MS = 3000;

type MediaCall = 'connect' | 'expectSsrc' | 'setSpeed' | 'holdSilence' | 'close';
type MediaEvent = { id: string; what: 'first' | 'silent' | 'closed'; reason?: string; from: number };

export interface GbMediaPlacementDeps {
  readonly peer: IpcPeer;
  readonly slot: number;
  readonly registry: Registry;
  /** This worker's own receivers (rtp-media.ts over its slice of rtp.portMin..portMax). */
  readonly media: GbMediaFactory;
  /** Slot 1 only: the bridge that sends the INVITEs. */
  readonly bridge?: GbBridge;
  /** How long an INVITE with its first RTP may take (sip.inviteTimeout + sip.mediaTimeout), ms. */
  readonly startTimeoutMs: number;
  readonly log: Logger;
}

export class GbMediaPlacement {
  /** Receivers held here for slot 1, by id. */
  private readonly held = new Map<string, { receiver: GbMediaReceiver; from: number }>();
  /** Slot 1: receivers opened on other workers, by id. */
  private readonly placed = new Map<string, { slot: number; open: GbMediaOpenOptions; stats: GbMediaStats; closed: boolean }>();
  /** Slot 1: pulls whose stream lives on another worker, by path (`gone`: that worker died). */
  private readonly remotePulls = new Map<string, { slot: number; gone: boolean; pull?: { stop(reason: string): Promise<void> } }>();
  private readonly ended = new Set<string>();
  private sequence = 0;
  private readonly statsTimer: NodeJS.Timeout;
  private readonly offs: (() => void)[] = [];

  constructor(private readonly deps: GbMediaPlacementDeps) {
    const { peer } = deps;
    peer.handle('media.open', (body) => this.openHere(body as GbMediaOpenOptions & { id: string; from: number }));
    peer.handle('media.call', (body) => this.callHere(body as { id: string; call: MediaCall; args: unknown[] }));
    peer.onEvent('media.event', (body) => this.mediaEvent(body as MediaEvent));
    peer.onEvent('media.stats', (body) => this.mediaStats(body as { items: { id: string; stats: GbMediaStats }[] }));
    peer.onEvent('worker.gone', (body) => this.workerGone((body as { slot: number }).slot));
    peer.handle('gb.readers', (body) => deps.registry.readerCount((body as { path: string }).path));
    peer.onEvent('gb.kick', (body) => this.kickHere(body as { path: string; reason: string }));
    if (deps.bridge) {
      peer.handle('gb.start', (body) => this.startForWorker(body as { path: string; from: number }));
      peer.handle('gb.stop', (body) => this.stopForWorker(body as { path: string; reason: string }));
    } else this.offs.push(deps.registry.registerOnDemand(`${GB_APP}/*`, (path) => this.askSipWorker(path)));
    this.statsTimer = setInterval(() => this.sendStats(), STATS_EVERY_MS);
    this.statsTimer.unref();
  }

  /** The receiver factory slot 1's bridge uses for a stream that lives on `slot`. */
  mediaOn(slot: number): GbMediaFactory {
    return async (open) => {
      const id = `${this.deps.slot}-${++this.sequence}`;
      const entry = { slot, open, stats: { packets: 0, bytes: 0 }, closed: false };
      this.placed.set(id, entry);
      let localPort: number;
      try {
        ({ localPort } = await this.relay<{ localPort: number }>(slot, 'media.open', { id, path: open.path, mode: open.mode, ssrc: open.ssrc, silenceMs: open.silenceMs }));
      } catch (err) {
        this.placed.delete(id);
        throw new GatewayError('SOURCE_START_FAILED', `no RTP receiver on worker ${slot}: ${errorMessage(err)}`, { cause: err });
      }
      const call = (name: MediaCall, ...args: unknown[]): Promise<void> => this.relay(slot, 'media.call', { id, call: name, args });
      const quiet = (name: MediaCall, ...args: unknown[]): void =>
        void call(name, ...args).catch((err: unknown) => this.deps.log.warn({ id, slot, call: name, err: errorMessage(err) }, 'GB28181 receiver call failed'));
      return {
        localPort,
        connect: (host, port) => call('connect', host, port),
        expectSsrc: (ssrc) => quiet('expectSsrc', ssrc),
        setSpeed: (speed) => quiet('setSpeed', speed),
        holdSilence: (hold) => quiet('holdSilence', hold),
        stats: () => entry.stats,
        close: (reason) => {
          if (entry.closed) return;
          entry.closed = true;
          this.placed.delete(id);
          quiet('close', reason);
        },
      };
    };
  }

  close(): void {
    clearInterval(this.statsTimer);
    for (const off of this.offs.splice(0)) off();
    for (const { receiver } of this.held.values()) receiver.close('the worker is stopping');
    this.held.clear();
  }

  // --- on the worker that holds the receiver ---

  private async openHere(request: GbMediaOpenOptions & { id: string; from: number }): Promise<{ localPort: number }> {
    const { id, from } = request;
    const event = (what: MediaEvent['what'], reason?: string): void => {
      if (what === 'closed') this.held.delete(id);
      this.deps.peer.emit('relayEvent', { slot: from, op: 'media.event', body: { id, what, ...(reason !== undefined ? { reason } : {}) } });
    };
    const receiver = await this.deps.media({
      path: request.path,
      mode: request.mode,
      ssrc: request.ssrc,
      silenceMs: request.silenceMs,
      onFirstPacket: () => event('first'),
      onSilent: () => event('silent'),
      onClosed: (reason) => event('closed', reason),
    });
    this.held.set(id, { receiver, from });
    return { localPort: receiver.localPort };
  }

  private async callHere({ id, call, args }: { id: string; call: MediaCall; args: unknown[] }): Promise<void> {
    const entry = this.held.get(id);
    if (!entry) {
      if (call === 'close') return;
      throw new GatewayError('SESSION_NOT_FOUND', `no GB28181 receiver ${id} on this worker`);
    }
    const { receiver } = entry;
    if (call === 'connect') await receiver.connect(String(args[0]), Number(args[1]));
    else if (call === 'expectSsrc') receiver.expectSsrc(Number(args[0]));
    else if (call === 'setSpeed') receiver.setSpeed(Number(args[0]));
    else if (call === 'holdSilence') receiver.holdSilence(args[0] === true);
    else {
      this.held.delete(id);
      receiver.close(String(args[0] ?? 'closed'));
    }
  }

  private sendStats(): void {
    const bySlot = new Map<number, { id: string; stats: GbMediaStats }[]>();
    for (const [id, { receiver, from }] of this.held) bySlot.set(from, [...(bySlot.get(from) ?? []), { id, stats: receiver.stats() }]);
    for (const [slot, items] of bySlot) this.deps.peer.emit('relayEvent', { slot, op: 'media.stats', body: { items } });
  }

  // --- on slot 1: events of receivers placed elsewhere ---

  private mediaEvent({ id, what, reason }: MediaEvent): void {
    const entry = this.placed.get(id);
    if (!entry) return;
    if (what === 'first') entry.open.onFirstPacket();
    else if (what === 'silent') entry.open.onSilent();
    else {
      this.placed.delete(id);
      if (!entry.closed) entry.open.onClosed(reason ?? 'the receiver closed');
    }
  }

  private mediaStats({ items }: { items: { id: string; stats: GbMediaStats }[] }): void {
    for (const { id, stats } of items) {
      const entry = this.placed.get(id);
      if (entry) entry.stats = stats;
    }
  }

  private workerGone(slot: number): void {
    for (const remote of this.remotePulls.values()) if (remote.slot === slot) remote.gone = true;
    // Slot 1: the INVITEs whose receiver was there end (their BYE goes out).
    for (const [id, entry] of [...this.placed]) {
      if (entry.slot !== slot) continue;
      this.placed.delete(id);
      entry.open.onClosed(`worker ${slot}, which received this stream's RTP, died`);
    }
    // Other workers: receivers held for a dead slot 1 have no dialog any more.
    for (const [id, { receiver, from }] of [...this.held]) {
      if (from !== slot) continue;
      this.held.delete(id);
      receiver.close(`worker ${slot}, which had this stream's SIP dialog, died`);
    }
  }

  private async startForWorker({ path, from }: { path: string; from: number }): Promise<void> {
    const bridge = this.deps.bridge!;
    const remote: { slot: number; gone: boolean; pull?: { stop(reason: string): Promise<void> } } = { slot: from, gone: false };
    const host: GbStreamHost = {
      media: this.mediaOn(from),
      readerCount: (p) => this.relay<number>(from, 'gb.readers', { path: p }),
      kick: (p, reason) => {
        if (this.remotePulls.get(p) === remote) this.remotePulls.delete(p);
        // The copy here ends with it; not when its worker died: the viewers here wait for the channel placed again (ClusterWorker.pullFrom).
        if (!remote.gone) this.deps.registry.kick(p, reason);
        this.deps.peer.emit('relayEvent', { slot: from, op: 'gb.kick', body: { path: p, reason } });
      },
    };
    this.remotePulls.set(path, remote);
    try {
      remote.pull = await bridge.startFor(path, host);
    } catch (err) {
      if (this.remotePulls.get(path) === remote) this.remotePulls.delete(path);
      throw err;
    }
  }

  private async stopForWorker({ path, reason }: { path: string; reason: string }): Promise<void> {
    const remote = this.remotePulls.get(path);
    this.remotePulls.delete(path);
    await remote?.pull?.stop(reason);
  }

  // --- on a worker without SIP: the on-demand source of rtp/* ---

  private async askSipWorker(path: string): Promise<OnDemandSource | undefined> {
    // Not a channel path (rtp/cam7 of an API receiver): its viewers wait for a publisher.
    if (!parseGbPath(path)) return undefined;
    await this.requestStart(path);
    let stopped = false;
    let lastRestart = 0;
    // The pull ended by itself (device BYE, silence) while the hub keeps this source: a reader coming back starts it again.
    const offReaders = this.deps.registry.events.on('readers', (changed, count) => {
      if (changed !== path || stopped || count === 0 || !this.ended.has(path) || Date.now() - lastRestart < RESTART_GAP_MS) return;
      lastRestart = Date.now();
      this.requestStart(path).catch((err: unknown) => this.deps.registry.kick(path, errorMessage(err)));
    });
    return {
      stop: async (reason: string) => {
        stopped = true;
        offReaders();
        this.ended.delete(path);
        await this.relay(SIP_SLOT, 'gb.stop', { path, reason }).catch(() => undefined);
      },
    };
  }

  private async requestStart(path: string): Promise<void> {
    this.ended.delete(path);
    try {
      await this.relay(SIP_SLOT, 'gb.start', { path }, this.deps.startTimeoutMs);
    } catch (err) {
      // An answer lost on the way (a timeout) must not leave slot 1 with a pull nobody stops.
      await this.relay(SIP_SLOT, 'gb.stop', { path, reason: `the start failed here: ${errorMessage(err)}` }).catch(() => undefined);
      throw err;
    }
  }

  private kickHere({ path, reason }: { path: string; reason: string }): void {
    this.ended.add(path);
    this.deps.registry.kick(path, reason);
  }

  private relay<T>(slot: number, op: string, body: object, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    return this.deps.peer.request<T>('relay', { slot, op, body, timeoutMs }, timeoutMs + 1000);
  }
}

/** The placement of a cluster worker's GB28181 media, from its gateway (receivers over its own port slice). */
export function gbMediaOf(gateway: Gateway, peer: IpcPeer, slot: number, log: Logger): GbMediaPlacement {
  const { registry, config } = gateway;
  const mediaLog = log.child({ component: 'gb-media' });
  return new GbMediaPlacement({
    peer,
    slot,
    registry,
    media: createRtpMediaFactory({ registry, log: mediaLog, pool: gateway.rtpPorts, host: config.rtp.host }),
    ...(gateway.gb28181 ? { bridge: gateway.gb28181.bridge } : {}),
    startTimeoutMs: (config.sip.inviteTimeout + config.sip.mediaTimeout) * 1000 + 5000,
    log: mediaLog,
  });
}

import type pino from 'pino';
import type { Registry } from '../hub/registry';
import type { ConsoleEvent } from '../api/events';
import type { GbServer } from '../../sip/gb28181/server';
import type { ProxyDto } from '../api/proxies';
import type { PushDto } from '../api/pushes';
import type { ActiveRecording } from './recording/recorder';

/** A manager's change event (ProxyManager and PushManager `changed`, RecordingManager `recorders`). */
interface ChangeEvents<E extends string> {
  on(event: E, listener: () => void): () => void;
}

/** What the console's event channel reads; every part is optional (SIP or recording may be off). */
export interface ConsoleEventSources {
  registry: Registry;
  gb?: Pick<GbServer, 'events'>;
  proxies?: { list(): ProxyDto[]; events: ChangeEvents<'changed'> };
  pushes?: { list(): PushDto[]; events: ChangeEvents<'changed'> };
  recorders?: { active(): ActiveRecording[]; events: ChangeEvents<'recorders'> };
  log: pino.Logger;
}

/**
 * The one bus behind `GET /api/events`: hub and SIP events are forwarded as they happen; when
 * a proxy, push or recorder manager says something changed, its list (the one the API serves)
 * is compared with the last look once the current turn is over (a cut closes and opens a
 * segment in one turn: no flapping) and only changes are sent. Nothing is compared while no
 * console listens. Other parts of the app add event types with `emit`.
 */
export class ConsoleEvents {
  private readonly listeners = new Set<(event: ConsoleEvent) => void>();
  private readonly detach: (() => void)[] = [];
  private readonly lastStates = new Map<string, string>();
  private pending: NodeJS.Immediate | undefined;

  constructor(private readonly sources: ConsoleEventSources) {}

  subscribe(send: (event: ConsoleEvent) => void): () => void {
    if (this.listeners.size === 0) this.checkStates(false);
    this.listeners.add(send);
    return () => {
      this.listeners.delete(send);
      if (this.listeners.size === 0) this.lastStates.clear();
    };
  }

  emit(event: ConsoleEvent): void {
    for (const send of this.listeners) {
      try {
        send(event);
      } catch (err) {
        this.sources.log.warn({ err, type: event.type }, 'console event listener threw (ignored)');
      }
    }
  }

  start(): void {
    const { registry, gb } = this.sources;
    const at = Date.now;
    this.detach.push(registry.events.on('publish', (path) => this.emit({ type: 'stream.up', path, at: at() })));
    this.detach.push(registry.events.on('streamEnd', (path, reason) => this.emit({ type: 'stream.down', path, reason, at: at() })));
    if (gb) {
      this.detach.push(gb.events.on('online', (deviceId) => this.emit({ type: 'device.online', deviceId, at: at() })));
      this.detach.push(gb.events.on('offline', (deviceId, reason) => this.emit({ type: 'device.offline', deviceId, reason, at: at() })));
      this.detach.push(
        gb.events.on('catalog', (deviceId, d) =>
          this.emit({ type: 'channel.changed', deviceId, added: d.added, updated: d.updated, removed: d.removed, total: d.total, complete: d.complete, at: at() }),
        ),
      );
    }
    const { proxies, pushes, recorders } = this.sources;
    const changed = () => this.scheduleCheck();
    if (proxies) this.detach.push(proxies.events.on('changed', changed));
    if (pushes) this.detach.push(pushes.events.on('changed', changed));
    if (recorders) this.detach.push(recorders.events.on('recorders', changed));
  }

  close(): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    for (const off of this.detach.splice(0)) off();
    this.listeners.clear();
  }

  private scheduleCheck(): void {
    if (this.listeners.size === 0 || this.pending) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      if (this.listeners.size > 0) this.checkStates(true);
    });
  }

  private checkStates(announce: boolean): void {
    const seen = new Set<string>();
    const note = (key: string, state: string, event: () => ConsoleEvent): void => {
      seen.add(key);
      if (this.lastStates.get(key) === state) return;
      this.lastStates.set(key, state);
      if (announce) this.emit(event());
    };
    const now = Date.now();
    for (const p of this.sources.proxies?.list() ?? []) {
      const lastError = p.status.lastError?.message;
      note(`proxy:${p.id}`, `${p.status.state}|${lastError ?? ''}`, () => ({
        type: 'proxy.state',
        id: p.id,
        path: p.path,
        state: p.status.state,
        ...(lastError ? { lastError } : {}),
        at: now,
      }));
    }
    for (const rule of this.sources.pushes?.list() ?? []) {
      for (const push of rule.pushes) {
        const lastError = push.lastError?.message;
        note(`push:${push.path}>${push.target}`, `${push.state}|${lastError ?? ''}`, () => ({
          type: 'push.state',
          path: push.path,
          target: push.target,
          state: push.state,
          ...(lastError ? { lastError } : {}),
          at: now,
        }));
      }
    }
    for (const r of this.sources.recorders?.active() ?? []) {
      const lastError = r.lastError ?? undefined;
      note(`rec:${r.path}:${r.reason}`, `${r.state}|${lastError ?? ''}`, () => ({
        type: 'recorder.state',
        path: r.path,
        reason: r.reason,
        state: r.state,
        ...(lastError ? { lastError } : {}),
        at: now,
      }));
    }
    for (const key of [...this.lastStates.keys()]) {
      if (seen.has(key)) continue;
      this.lastStates.delete(key);
      if (!announce) continue;
      const [kind, rest = ''] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      if (kind === 'rec')
        this.emit({ type: 'recorder.state', path: rest.slice(0, rest.lastIndexOf(':')), reason: rest.slice(rest.lastIndexOf(':') + 1), state: 'stopped', at: now });
    }
  }
}

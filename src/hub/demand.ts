import { GatewayError, errorMessage } from '../core/errors';
import type { Logger } from '../core/log';
import { pathPatternToRegExp } from './path';

/** A running on-demand pull (GB28181 INVITE, RTSP session). It publishes into the registry itself. */
export interface OnDemandSource {
  stop(reason: string): void | Promise<void>;
}

/**
 * Starts the pull for `path`; resolves once it is started (it publishes when media flows).
 * Resolves `undefined` when the path matches the pattern but is not one this factory serves
 * (`rtp/cam7` for the GB28181 factory of `rtp/*`): its viewers then wait for a publisher, as
 * for an unknown path. A rejection with STREAM_NOT_FOUND means the same.
 */
export type OnDemandFactory = (path: string) => Promise<OnDemandSource | undefined>;

/**
 * Where a path without a local publisher is served (the cluster seam, docs/architecture.md
 * "Every core"): given the local factory of the path (undefined when none matches), it runs it,
 * returns another source (an internal pull from the process that owns the path), or resolves
 * undefined (nobody serves it: its viewers wait for a publisher).
 */
export type DemandRouter = (path: string, local: OnDemandFactory | undefined) => Promise<OnDemandSource | undefined>;

export interface DemandOptions {
  /** Ms after the last reader leaves before the source is stopped. */
  closeAfterMs: number;
}

export interface DemandHooks {
  /** The factory failed: every waiter of `path` gets this error. */
  onStartFailed(path: string, err: unknown): void;
  /** The path's readers ask again: a factory for it was registered while its start was being declined. */
  askAgain(path: string): void;
}

type DemandState = 'starting' | 'ready' | 'closing';

interface Entry {
  state: DemandState;
  source?: OnDemandSource;
  closeTimer?: NodeJS.Timeout;
  cancelled: boolean;
  /** A factory matching the path was registered while it was starting (its answer may predate it). */
  factoryAdded?: boolean;
}

/**
 * On-demand sources (hub rule 7): the first reader of a matching path starts the source, the
 * last one leaving arms `closeAfterMs`, a new reader cancels it. Two readers arriving together
 * start it once.
 */
export class DemandManager {
  private readonly factories: { pattern: RegExp; factory: OnDemandFactory; name: string }[] = [];
  private readonly entries = new Map<string, Entry>();
  /** Paths whose factory said it does not serve them; forgotten when their readers are gone. */
  private readonly declined = new Set<string>();
  private router: DemandRouter | undefined;

  constructor(
    private readonly options: DemandOptions,
    private readonly hooks: DemandHooks,
    private readonly log: Logger,
  ) {}

  register(pattern: string, factory: OnDemandFactory): () => void {
    const item = { pattern: pathPatternToRegExp(pattern), factory, name: pattern };
    this.factories.push(item);
    for (const [path, entry] of this.entries) if (entry.state === 'starting' && item.pattern.test(path)) entry.factoryAdded = true;
    return () => {
      const index = this.factories.indexOf(item);
      if (index >= 0) this.factories.splice(index, 1);
    };
  }

  /** Every start goes through `router` from now on; returns its remover. */
  route(router: DemandRouter): () => void {
    this.router = router;
    return () => {
      if (this.router === router) this.router = undefined;
    };
  }

  /** Forgets that `path` was declined (a publisher appeared elsewhere): its readers ask again. */
  forgetDeclined(path: string): boolean {
    return this.declined.delete(path);
  }

  matches(path: string): boolean {
    return this.factories.some((f) => f.pattern.test(path));
  }

  state(path: string): DemandState | 'idle' {
    return this.entries.get(path)?.state ?? 'idle';
  }

  /**
   * `published`: the path has a publisher (ready or not): no factory is started for it, its
   * readers wait for that publisher.
   */
  readersChanged(path: string, readers: number, published = false): void {
    const entry = this.entries.get(path);
    if (readers === 0) this.declined.delete(path);
    if (readers > 0) {
      if (!entry) {
        if (!published && !this.declined.has(path)) this.start(path);
      } else if (entry.closeTimer) {
        clearTimeout(entry.closeTimer);
        entry.closeTimer = undefined;
        this.log.debug({ path }, 'on-demand close cancelled: a reader came back');
      }
      return;
    }
    if (entry && !entry.closeTimer && !entry.cancelled) {
      entry.closeTimer = setTimeout(() => {
        // Only this entry: a newer start on the same path has its own timer.
        if (this.entries.get(path) === entry) void this.stop(path, 'no readers');
      }, this.options.closeAfterMs);
    }
  }

  /** Stops every running source. */
  async close(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((path) => this.stop(path, 'shutting down')));
  }

  private start(path: string): void {
    const local = this.factories.find((f) => f.pattern.test(path));
    const router = this.router;
    if (!local && !router) return;
    const found = { name: local?.name ?? 'router', factory: router ? (p: string) => router(p, local?.factory) : local!.factory };
    const entry: Entry = { state: 'starting', cancelled: false };
    this.entries.set(path, entry);
    this.log.info({ path, factory: found.name }, 'on-demand source starting');
    let started: Promise<OnDemandSource | undefined>;
    try {
      started = found.factory(path);
    } catch (err) {
      started = Promise.reject(err);
    }
    started.then(
      (source) => {
        if (!source) return this.decline(path, entry, found.name);
        if (entry.cancelled) {
          void this.stopSource(path, source, 'no readers left while starting');
          return;
        }
        entry.source = source;
        entry.state = 'ready';
      },
      (err: unknown) => {
        if (err instanceof GatewayError && err.code === 'STREAM_NOT_FOUND') return this.decline(path, entry, found.name, err.message);
        clearTimeout(entry.closeTimer);
        if (this.entries.get(path) === entry) this.entries.delete(path);
        this.log.warn({ path, err: errorMessage(err) }, 'on-demand source failed to start');
        if (!entry.cancelled) this.hooks.onStartFailed(path, err);
      },
    );
  }

  private decline(path: string, entry: Entry, factory: string, why?: string): void {
    clearTimeout(entry.closeTimer);
    if (this.entries.get(path) !== entry) return;
    this.entries.delete(path);
    if (entry.factoryAdded && !entry.cancelled) {
      // The router asked before this worker had loaded the factory (a proxy made through the API on another worker).
      this.log.info({ path, factory }, 'on-demand factory registered while the start was declined: asking again');
      this.hooks.askAgain(path);
      return;
    }
    if (!entry.cancelled) this.declined.add(path);
    this.log.info({ path, factory, why }, 'on-demand factory does not serve this path: its viewers wait for a publisher');
  }

  private async stop(path: string, reason: string): Promise<void> {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    clearTimeout(entry.closeTimer);
    entry.cancelled = true;
    entry.state = 'closing';
    if (entry.source) await this.stopSource(path, entry.source, reason);
  }

  private async stopSource(path: string, source: OnDemandSource, reason: string): Promise<void> {
    this.log.info({ path, reason }, 'on-demand source stopping');
    try {
      await source.stop(reason);
    } catch (err) {
      this.log.warn({ path, err: errorMessage(err) }, 'on-demand source failed to stop cleanly');
    }
  }
}

/**
 * The stream directory: which worker owns a path (its publisher or on-demand source is
 * there) and where its internal pull is served. One interface, so that the many-machines step
 * can give it a Redis implementation; `InProcessDirectory` is kept by the cluster primary.
 */

export interface DirectoryEntry {
  readonly path: string;
  /** The owning worker's slot (1..N). */
  readonly owner: number;
  /** `http://127.0.0.1:PORT`: the owner's private port (internal HTTP-FLV pulls). */
  readonly address: string;
  /**
   * `claimed`: placed there, its source starting; `live`: it has a publisher; `held`: a job of
   * the path (an always-on proxy, a keepSource push) runs there, no stream yet (`hold`).
   */
  readonly state: 'claimed' | 'live' | 'held';
  readonly since: number;
}

/** Path -> owner slot (holds included), as one broadcast of the directory says: the one lookup a worker and its jobs share. */
export function ownersOf(entries: readonly DirectoryEntry[]): ReadonlyMap<string, number> {
  return new Map(entries.map((e) => [e.path, e.owner]));
}

/** What the directory knows of a worker when it places a path. */
export interface WorkerPlace {
  readonly slot: number;
  readonly address: string;
  /** Patterns of paths only this worker serves (`rtp/*`: GB28181 lives on one worker). */
  readonly serves: readonly RegExp[];
  /** It also carries SIP signalling (every device's dialogs): a tie in load goes to another worker. */
  readonly signalling?: boolean;
}

export interface PlaceRequest {
  readonly path: string;
  /** The asking worker. */
  readonly slot: number;
  /** The asker has a factory for the path (a proxy): every worker has the same ones. */
  readonly localFactory: boolean;
}

export interface StreamDirectory {
  lookup(path: string): Promise<DirectoryEntry | undefined>;
  /** The owner of `path`, placing it first when it has none; undefined when no worker serves it. */
  place(request: PlaceRequest): Promise<DirectoryEntry | undefined>;
  /** `slot` has a publisher of `path` now (the newest publisher wins). */
  register(path: string, slot: number): Promise<DirectoryEntry>;
  /** `slot` no longer has `path`; a newer owner's entry is kept. */
  unregister(path: string, slot: number): Promise<void>;
  list(): Promise<DirectoryEntry[]>;
  /**
   * The worker that runs `path`'s job (`slot` asks): the owner of its stream if it has one,
   * else the worker holding it already, else the least-loaded worker, which holds it from now on.
   */
  hold(path: string, slot: number): Promise<number>;
  /** `slot` no longer runs `path`'s job (it was removed). */
  release(path: string, slot: number): Promise<void>;
}

/** A claim whose source never published is forgotten after this long. */
const CLAIM_TTL_MS = 30_000;

export class InProcessDirectory implements StreamDirectory {
  private readonly entries = new Map<string, DirectoryEntry>();
  private readonly workers = new Map<number, WorkerPlace>();
  /** path -> the slot running its job (a stream entry of the path wins over it). */
  private readonly holds = new Map<string, { slot: number; since: number }>();

  constructor(
    private readonly onChange: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** A worker is up (or came back) with this private address. */
  addWorker(place: WorkerPlace): void {
    this.workers.set(place.slot, place);
  }

  /** A worker died: it owns and holds nothing from now on. Returns the paths it owned. */
  dropWorker(slot: number): string[] {
    this.workers.delete(slot);
    const dropped = [...this.entries.values()].filter((e) => e.owner === slot).map((e) => e.path);
    for (const path of dropped) this.entries.delete(path);
    const held = [...this.holds].filter(([, hold]) => hold.slot === slot).map(([path]) => path);
    for (const path of held) this.holds.delete(path);
    if (dropped.length || held.length) this.onChange();
    return dropped;
  }

  lookup(path: string): Promise<DirectoryEntry | undefined> {
    return Promise.resolve(this.current(path));
  }

  place(request: PlaceRequest): Promise<DirectoryEntry | undefined> {
    const existing = this.current(request.path);
    if (existing) return Promise.resolve(existing);
    // A keepSource push holds the path: its source starts where the push runs (no crossing).
    const held = request.localFactory ? this.holds.get(request.path)?.slot : undefined;
    const slot = held !== undefined && this.workers.has(held) ? held : this.choose(request);
    const worker = slot === undefined ? undefined : this.workers.get(slot);
    if (!worker) return Promise.resolve(undefined);
    return Promise.resolve(this.set(request.path, worker, 'claimed'));
  }

  register(path: string, slot: number): Promise<DirectoryEntry> {
    const worker = this.workers.get(slot) ?? { slot, address: '', serves: [] };
    return Promise.resolve(this.set(path, worker, 'live'));
  }

  unregister(path: string, slot: number): Promise<void> {
    if (this.entries.get(path)?.owner === slot) {
      this.entries.delete(path);
      this.onChange();
    }
    return Promise.resolve();
  }

  list(): Promise<DirectoryEntry[]> {
    return Promise.resolve(this.snapshot());
  }

  hold(path: string, slot: number): Promise<number> {
    const holder = this.current(path)?.owner ?? this.holds.get(path)?.slot ?? this.choose({ path, slot, localFactory: true }) ?? slot;
    if (this.holds.get(path)?.slot !== holder) {
      this.holds.set(path, { slot: holder, since: this.now() });
      this.onChange();
    }
    return Promise.resolve(holder);
  }

  release(path: string, slot: number): Promise<void> {
    if (this.holds.get(path)?.slot === slot) {
      this.holds.delete(path);
      this.onChange();
    }
    return Promise.resolve();
  }

  /** The streams, then the holds of paths without a stream (state `held`). */
  snapshot(): DirectoryEntry[] {
    const streams = [...this.entries.keys()].map((path) => this.current(path)).filter((e): e is DirectoryEntry => e !== undefined);
    const paths = new Set(streams.map((e) => e.path));
    const held = [...this.holds]
      .filter(([path, hold]) => !paths.has(path) && this.workers.has(hold.slot))
      .map(([path, { slot, since }]): DirectoryEntry => ({ path, owner: slot, address: this.workers.get(slot)!.address, state: 'held', since }));
    return [...streams, ...held];
  }

  /** Each live worker's private address. */
  workerAddresses(): { slot: number; address: string }[] {
    return [...this.workers.values()].map(({ slot, address }) => ({ slot, address }));
  }

  /** Streams each worker owns and jobs it holds without a stream (its load). */
  owned(slot: number): number {
    let n = 0;
    for (const entry of this.entries.values()) if (entry.owner === slot) n++;
    for (const [path, hold] of this.holds) if (hold.slot === slot && !this.entries.has(path)) n++;
    return n;
  }

  private current(path: string): DirectoryEntry | undefined {
    const entry = this.entries.get(path);
    if (entry?.state === 'claimed' && this.now() - entry.since > CLAIM_TTL_MS) {
      this.entries.delete(path);
      return undefined;
    }
    return entry;
  }

  /**
   * A path one worker alone serves goes there; a path every worker serves (a proxy, a GB28181
   * channel: its media receiver can be on any worker) goes to the worker that owns the fewest
   * streams; on a tie not to the one with SIP signalling, then to the asker (no internal pull).
   */
  private choose(request: PlaceRequest): number | undefined {
    const only = [...this.workers.values()].find((w) => w.serves.some((re) => re.test(request.path)));
    if (only) return only.slot;
    if (!request.localFactory) return undefined;
    const cost = (w: WorkerPlace): number[] => [this.owned(w.slot), w.signalling ? 1 : 0, w.slot === request.slot ? 0 : 1];
    let best: WorkerPlace | undefined;
    for (const worker of this.workers.values()) if (!best || lessThan(cost(worker), cost(best))) best = worker;
    return best?.slot ?? request.slot;
  }

  private set(path: string, worker: WorkerPlace, state: DirectoryEntry['state']): DirectoryEntry {
    const entry: DirectoryEntry = { path, owner: worker.slot, address: worker.address, state, since: this.now() };
    this.entries.set(path, entry);
    this.onChange();
    return entry;
  }
}

function lessThan(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

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
  /** `claimed`: placed there, its source starting; `live`: it has a publisher. */
  readonly state: 'claimed' | 'live';
  readonly since: number;
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
}

/** A claim whose source never published is forgotten after this long. */
const CLAIM_TTL_MS = 30_000;

export class InProcessDirectory implements StreamDirectory {
  private readonly entries = new Map<string, DirectoryEntry>();
  private readonly workers = new Map<number, WorkerPlace>();

  constructor(
    private readonly onChange: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** A worker is up (or came back) with this private address. */
  addWorker(place: WorkerPlace): void {
    this.workers.set(place.slot, place);
  }

  /** A worker died: it owns nothing from now on. Returns the paths it owned. */
  dropWorker(slot: number): string[] {
    this.workers.delete(slot);
    const dropped = [...this.entries.values()].filter((e) => e.owner === slot).map((e) => e.path);
    for (const path of dropped) this.entries.delete(path);
    if (dropped.length) this.onChange();
    return dropped;
  }

  lookup(path: string): Promise<DirectoryEntry | undefined> {
    return Promise.resolve(this.current(path));
  }

  place(request: PlaceRequest): Promise<DirectoryEntry | undefined> {
    const existing = this.current(request.path);
    if (existing) return Promise.resolve(existing);
    const slot = this.choose(request);
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

  snapshot(): DirectoryEntry[] {
    return [...this.entries.keys()].map((path) => this.current(path)).filter((e): e is DirectoryEntry => e !== undefined);
  }

  /** Each live worker's private address. */
  workerAddresses(): { slot: number; address: string }[] {
    return [...this.workers.values()].map(({ slot, address }) => ({ slot, address }));
  }

  /** Streams each worker owns (its load). */
  owned(slot: number): number {
    let n = 0;
    for (const entry of this.entries.values()) if (entry.owner === slot) n++;
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

/**
 * Where a path's job runs (an always-on proxy, a keepSource push; docs/architecture.md "Every
 * core"): every worker knows every job, the directory holds each on one worker (the owner of
 * its stream, else the least-loaded worker), and a worker runs the jobs held by it. On every
 * directory change a worker asks again for the jobs whose place is in question (no holder any
 * more: its worker died; or the directory names another worker than the one running it).
 */
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { StreamDirectory } from './directory';

interface Job {
  readonly path: string;
  readonly start: () => () => void;
  /** Set while it runs here. */
  stop?: () => void;
  asking: boolean;
  again: boolean;
  ended: boolean;
}

export interface ClusterJobsDeps {
  readonly directory: Pick<StreamDirectory, 'hold' | 'release'>;
  readonly slot: number;
  /** Jobs are placed once this many workers are up (or after `waitMs`): else the first to start would hold them all. */
  readonly workers: number;
  readonly waitMs: number;
  readonly log: Logger;
}

export class ClusterJobs {
  private readonly jobs = new Set<Job>();
  private owners: ReadonlyMap<string, number> = new Map();
  private open = false;
  private readonly wait: NodeJS.Timeout;

  constructor(private readonly deps: ClusterJobsDeps) {
    this.wait = setTimeout(() => this.opened(), deps.waitMs);
    this.wait.unref();
  }

  run(path: string, start: () => () => void): () => void {
    const job: Job = { path, start, asking: false, again: false, ended: false };
    this.jobs.add(job);
    if (this.open) this.ask(job);
    return () => {
      job.ended = true;
      this.jobs.delete(job);
      if (job.stop) this.release(path);
      job.stop = undefined;
    };
  }

  /** The directory's owners (holds included: `ownersOf`) and how many workers are up. */
  update(owners: ReadonlyMap<string, number>, workersUp: number): void {
    this.owners = owners;
    if (!this.open && workersUp >= this.deps.workers) this.opened();
    else if (this.open) for (const job of this.jobs) if (this.inQuestion(job)) this.ask(job);
  }

  close(): void {
    clearTimeout(this.wait);
    for (const job of this.jobs) job.ended = true;
    this.jobs.clear();
  }

  private opened(): void {
    if (this.open) return;
    this.open = true;
    clearTimeout(this.wait);
    for (const job of this.jobs) this.ask(job);
  }

  private inQuestion(job: Job): boolean {
    const owner = this.owners.get(job.path);
    return owner === undefined || (owner === this.deps.slot) !== (job.stop !== undefined);
  }

  private ask(job: Job): void {
    if (job.asking) {
      job.again = true;
      return;
    }
    job.asking = true;
    const { directory, slot, log } = this.deps;
    directory
      .hold(job.path, slot)
      .then((holder) => {
        if (job.ended) {
          if (holder === slot) this.release(job.path);
        } else if (holder === slot && !job.stop) {
          log.info({ path: job.path }, 'job placed on this worker: starting it');
          job.stop = job.start();
        } else if (holder !== slot && job.stop) {
          log.info({ path: job.path, worker: holder }, 'job placed on another worker: stopping it here');
          const stop = job.stop;
          job.stop = undefined;
          stop();
        }
      })
      .catch((err: unknown) => log.warn({ path: job.path, err: errorMessage(err) }, 'job placement failed: asked again at the next directory change'))
      .finally(() => {
        job.asking = false;
        if (job.again && !job.ended) {
          job.again = false;
          this.ask(job);
        }
      });
  }

  /** Released unless another job of the path still runs here (a proxy and a push of one path). */
  private release(path: string): void {
    if ([...this.jobs].some((j) => j.path === path && j.stop)) return;
    this.deps.directory.release(path, this.deps.slot).catch((err: unknown) => this.deps.log.warn({ path, err: errorMessage(err) }, 'job release failed'));
  }
}

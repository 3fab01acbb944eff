/**
 * The certificate every TLS listener serves, and its reload: on SIGHUP and when the files
 * change (fs.watch of their folders, debounced). A reload gives each listener the new context
 * with `setSecureContext`, so open sessions keep the one they shook hands with and new ones
 * get the new one; a new pair that does not load is logged and the old one kept.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { SecureContextOptions, Server } from 'node:tls';
import type { GatewayConfig } from '../../config/schema';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import { readServerTls, type CertificateSummary, type ServerTls } from './files';

export type TlsFiles = Pick<GatewayConfig['tls'], 'cert' | 'key'>;

export class TlsCertificates {
  private current: ServerTls;
  private readonly servers = new Set<Server>();
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: TlsFiles,
    private readonly log: Logger,
    initial: ServerTls = readServerTls(files),
  ) {
    this.current = initial;
    this.logLoaded('start', initial.summary);
  }

  /** The context options of the certificate in use (to create a listener with). */
  get options(): SecureContextOptions {
    return this.current.options;
  }

  get summary(): CertificateSummary {
    return this.current.summary;
  }

  /** A listener created with `options` whose context follows every reload. */
  attach(server: Server): void {
    this.servers.add(server);
  }

  /** Re-reads the files; true if the listeners now serve them (unchanged files count as done). */
  reload(reason: string): boolean {
    let next: ServerTls;
    try {
      next = readServerTls(this.files);
    } catch (err) {
      this.log.error({ reason, err: errorMessage(err), serving: this.current.summary.fingerprint256 }, 'TLS certificate reload failed: the current certificate stays in use');
      return false;
    }
    if (samePair(next, this.current)) return true;
    try {
      for (const server of this.servers) server.setSecureContext(next.options);
    } catch (err) {
      this.log.error({ reason, err: errorMessage(err) }, 'TLS certificate reload failed: the current certificate stays in use');
      for (const server of this.servers) server.setSecureContext(this.current.options);
      return false;
    }
    this.current = next;
    this.logLoaded(reason, next.summary);
    return true;
  }

  /**
   * Reloads `delayMs` after the last change in the folders of the cert and key (their own
   * names, or the `..data` links Kubernetes swaps); folders, not files, so a file replaced by
   * a rename (certbot, editors) is still seen. 0 turns watching off.
   */
  watch(delayMs: number): void {
    if (delayMs <= 0) return;
    const folders = new Map<string, Set<string>>();
    for (const file of [this.files.cert, this.files.key]) {
      const folder = dirname(resolve(file));
      folders.set(folder, (folders.get(folder) ?? new Set()).add(basename(file)));
    }
    for (const [folder, names] of folders) {
      try {
        const watcher = watch(folder, { persistent: false }, (_event, name) => {
          if (name === null || names.has(name) || name.startsWith('..')) this.reloadSoon(delayMs);
        });
        watcher.on('error', (err) => this.log.warn({ folder, err: errorMessage(err) }, 'TLS file watch failed: reload with SIGHUP'));
        this.watchers.push(watcher);
      } catch (err) {
        this.log.warn({ folder, err: errorMessage(err) }, 'cannot watch the TLS files: reload with SIGHUP');
      }
    }
  }

  close(): void {
    clearTimeout(this.timer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
    this.servers.clear();
  }

  private reloadSoon(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reload('file change');
    }, delayMs);
    this.timer.unref();
  }

  private logLoaded(reason: string, summary: CertificateSummary): void {
    const { subject, subjectAltName, issuer, validTo, fingerprint256, expired } = summary;
    const entry = { reason, certificate: { subject, subjectAltName, issuer, validTo, fingerprint256 } };
    if (expired) this.log.warn(entry, 'TLS certificate loaded, but it has expired: clients will refuse it');
    else this.log.info(entry, 'TLS certificate loaded');
  }
}

function samePair(a: ServerTls, b: ServerTls): boolean {
  return Buffer.compare(a.options.cert as Buffer, b.options.cert as Buffer) === 0 && Buffer.compare(a.options.key as Buffer, b.options.key as Buffer) === 0;
}

/**
 * TLS in front of a TCP server, as a CDN's RTMPS edge does: Debian's stunnel4 with a
 * certificate signed by a CA the test makes (openssl), on 127.0.0.1 and a free port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './nginx-rtmp';

export const STUNNEL = '/usr/bin/stunnel4';

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate (PEM). */
  readonly ca: string;
}

function openssl(args: string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr}`);
}

/** A CA and a server certificate it signed, for the names given (IPs and DNS names). */
export function makeTestPki(names: { ips: string[]; dns: string[] }): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pki-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=gateway test CA'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=test CDN edge'], dir);
  const san = [...names.ips.map((ip) => `IP:${ip}`), ...names.dns.map((d) => `DNS:${d}`)].join(',');
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf'], dir);
  return { dir, caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), ca: readFileSync(join(dir, 'ca.pem'), 'utf8') };
}

export class Stunnel {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  /** TLS on a free port, forwarding to 127.0.0.1:`targetPort`. */
  static async start(pki: TestPki, targetPort: number): Promise<Stunnel> {
    const dir = mkdtempSync(join(tmpdir(), 'gw-stunnel-'));
    const port = await freePort();
    const conf = join(dir, 'stunnel.conf');
    writeFileSync(
      conf,
      `foreground = yes\npid =\ndebug = 4\noutput = ${join(dir, 'stunnel.log')}\n\n[rtmps]\naccept = 127.0.0.1:${port}\nconnect = 127.0.0.1:${targetPort}\ncert = ${pki.certFile}\nkey = ${pki.keyFile}\n`,
    );
    const child = spawn(STUNNEL, [conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4096)));
    const tunnel = new Stunnel(child, dir, port);
    try {
      await waitForPort(port);
    } catch (err) {
      await tunnel.stop();
      throw new Error(`stunnel did not start: ${stderr}`, { cause: err });
    }
    return tunnel;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

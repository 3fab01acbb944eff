import type { Logger } from '../../src/core/log';
import { NonceStore, digestChallenge, nonceCount, readDigest, verifyDigest } from '../digest';
import { headerString, uriUser, type NameAddr } from '../message';
import type { IncomingRequest } from '../stack';
import { remoteKey } from '../transport';
import { isDeviceCharset } from './charset';
import type { GbServerConfig } from './config';
import { isGbId } from './ids';
import type { DeviceSession, DeviceSessions } from './sessions';
import type { GbDevice } from '../../src/core/gb28181';
import type { GbDeviceStore } from './store';

export interface RegistrarHooks {
  /** A REGISTER succeeded; `first` when the device was not online before. */
  registered(session: DeviceSession, first: boolean): void;
  /** Expires: 0. */
  unregistered(id: string, reason: string): void;
}

interface Failures {
  count: number;
  bannedUntil: number;
  lastAt: number;
}

/**
 * Bans are per device id AND source IP: wrong passwords sent by a stranger under a camera's id
 * lock out the stranger's address, never the camera.
 */
function banKey(id: string, address: string): string {
  return `${id}|${address}`;
}

/** Wrong passwords of one source IP, in the current minute, across every device id it used. */
interface SourceFailures {
  windowStart: number;
  count: number;
  bannedUntil: number;
}

const SOURCE_WINDOW_MS = 60_000;

/** `2024-05-01T08:00:00.000` in local time: GB28181 devices set their clock from this Date. */
export function gbDate(now: number): string {
  const d = new Date(now);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The registration lifetime asked for: Expires header, else the Contact's expires parameter. */
function requestedExpires(request: IncomingRequest['request']): number | undefined {
  const header = headerString(request, 'expires');
  const contact = Array.isArray(request.headers.contact) ? request.headers.contact[0] : undefined;
  const text = header ?? contact?.params.expires ?? undefined;
  return text !== undefined && text !== null && /^\s*\d{1,10}\s*$/.test(text) ? Number(text) : undefined;
}

/**
 * REGISTER: digest MD5 (qop=auth) with nonces we issued and remember, per-device password or the
 * global one (or no auth; unknown ids only with sip.autoRegister), refresh by Call-ID from the
 * same address, unregister with Expires 0, and a ban of the id for the failing address after
 * repeated failures.
 * Spec: GB/T 28181-2016 §9.1.2; RFC 3261 §10.3; RFC 2617 §3.2
 */
export class Registrar {
  private readonly nonces: NonceStore;
  private readonly failures = new Map<string, Failures>();
  /** Per source IP: rotating device ids does not get around the per-id bans. */
  private readonly sourceFailures = new Map<string, SourceFailures>();

  constructor(
    private readonly config: GbServerConfig,
    private readonly store: GbDeviceStore,
    private readonly sessions: DeviceSessions,
    private readonly hooks: RegistrarHooks,
    private readonly log: Logger,
  ) {
    this.nonces = new NonceStore({ ttlMs: config.nonceTtlMs, maxNonces: 200_000 });
  }

  handle(incoming: IncomingRequest, now = Date.now()): void {
    const { request, remote } = incoming;
    const id = uriUser(request.headers.from);
    if (!id || !isGbId(id)) {
      incoming.reply(400, 'Bad Request (From is not a 20-digit GB28181 id)');
      return;
    }
    const source = this.sourceFailures.get(remote.address);
    if (source && source.bannedUntil > now) {
      incoming.reply(403, 'Forbidden (banned after repeated authentication failures)'); // no log line: a guesser must not fill the log
      return;
    }
    const log = this.log.child({ device: id, remote: remoteKey(remote) });
    const failures = this.failures.get(banKey(id, remote.address));
    if (failures && failures.bannedUntil > now) {
      log.warn({ until: new Date(failures.bannedUntil).toISOString() }, 'REGISTER refused: device id banned for this address after repeated authentication failures');
      incoming.reply(403, 'Forbidden (banned after repeated authentication failures)');
      return;
    }
    const expires = requestedExpires(request);
    if (expires === undefined) {
      incoming.reply(400, 'Bad Request (missing Expires)');
      return;
    }
    const record = this.store.get(id);
    if (!record && !this.config.autoRegister) {
      log.warn('REGISTER refused: unknown device and sip.autoRegister is off (provision it with POST /api/devices)');
      incoming.reply(403, 'Forbidden (unknown device)');
      return;
    }
    const password = record?.password || this.config.password;
    if (!record?.noAuth && !password) {
      log.warn('REGISTER refused: unknown device and the global password is empty (provision it with POST /api/devices)');
      incoming.reply(403, 'Forbidden (unknown device)');
      return;
    }
    if (!record?.noAuth && !this.authenticate(incoming, id, password, log, now)) return;
    if (expires === 0) {
      this.sessions.delete(id);
      incoming.reply(200, 'OK', { headers: { date: gbDate(now), expires: '0' } });
      this.hooks.unregistered(id, 'unregistered (REGISTER with Expires: 0)');
      return;
    }
    const granted = Math.min(Math.max(expires, 1), this.config.maxExpires);
    const session = this.register(incoming, id, granted, record, now);
    const contact = Array.isArray(request.headers.contact) ? request.headers.contact : undefined;
    incoming.reply(200, 'OK', { headers: { ...(contact ? { contact } : {}), expires: String(granted), date: gbDate(now) } });
    log.info({ transport: remote.protocol, expires: granted, first: session.first }, session.first ? 'device registered' : 'registration refreshed');
    this.hooks.registered(session.session, session.first);
  }

  /** Forgets expired nonces and bans. */
  sweep(now = Date.now()): void {
    this.nonces.sweep(now);
    for (const [address, f] of this.sourceFailures) {
      if (f.bannedUntil <= now && now - f.windowStart > SOURCE_WINDOW_MS) this.sourceFailures.delete(address);
    }
    for (const [id, f] of this.failures) {
      const over = f.bannedUntil !== 0 ? f.bannedUntil <= now : now - f.lastAt > this.config.banMs;
      if (over) this.failures.delete(id);
    }
  }

  /** Lifts the device's bans from every address (API: the user fixed the password). */
  unban(id: string): void {
    for (const key of this.failures.keys()) if (key.startsWith(`${id}|`)) this.failures.delete(key);
  }

  private authenticate(incoming: IncomingRequest, id: string, password: string, log: Logger, now: number): boolean {
    const { request, remote } = incoming;
    const challenge = (stale: boolean, why: string): false => {
      log.debug({ why }, 'REGISTER challenged');
      const nonce = this.nonces.issue(id, now);
      incoming.reply(401, 'Unauthorized', { headers: { 'www-authenticate': [digestChallenge(this.config.domain, nonce, stale)] } });
      return false;
    };
    const credentials = readDigest(request.headers.authorization);
    if (!credentials) {
      const session = this.sessions.get(id);
      const sameSource = session && session.callId === request.headers['call-id'] && remoteKey(session.remote) === remoteKey(remote);
      return sameSource ? true : challenge(false, 'no credentials');
    }
    if (credentials.realm !== this.config.domain) return challenge(false, `realm ${credentials.realm} is not ${this.config.domain}`);
    const nc = nonceCount(credentials);
    if (Number.isNaN(nc)) return challenge(false, 'bad nonce count');
    const check = this.nonces.use(credentials.nonce, id, nc, now);
    if (check !== 'ok') {
      log.info({ nonce: check }, `REGISTER with a ${check} nonce: challenged again`);
      return challenge(check === 'expired', `${check} nonce`);
    }
    const key = banKey(id, remote.address);
    if (credentials.username === id && verifyDigest(credentials, request.method, password)) {
      this.failures.delete(key);
      return true;
    }
    const failures = this.failures.get(key) ?? { count: 0, bannedUntil: 0, lastAt: now };
    failures.count++;
    failures.lastAt = now;
    if (failures.count >= this.config.authFailLimit) {
      failures.bannedUntil = now + this.config.banMs;
      failures.count = 0;
    }
    this.failures.set(key, failures);
    this.countSourceFailure(remote.address, log, now);
    log.warn(
      { failures: failures.count, banned: failures.bannedUntil > now },
      credentials.username === id ? 'REGISTER refused: wrong password' : `REGISTER refused: digest username ${credentials.username} is not the device id`,
    );
    incoming.reply(403, 'Forbidden (wrong password)');
    return false;
  }

  /** More than sourceFailLimit wrong passwords in a minute from one IP bans the IP for banMs. */
  private countSourceFailure(address: string, log: Logger, now: number): void {
    let source = this.sourceFailures.get(address);
    if (!source || now - source.windowStart > SOURCE_WINDOW_MS) {
      source = { windowStart: now, count: 0, bannedUntil: 0 };
      this.sourceFailures.set(address, source);
    }
    source.count++;
    if (source.count > this.config.sourceFailLimit) {
      source.bannedUntil = now + this.config.banMs;
      log.warn({ failures: source.count, until: new Date(source.bannedUntil).toISOString() }, 'source address banned: too many wrong passwords under any device id');
    }
  }

  private register(incoming: IncomingRequest, id: string, expires: number, record: GbDevice | undefined, now: number): { session: DeviceSession; first: boolean } {
    const { request, remote } = incoming;
    const previous = this.sessions.get(id);
    const contact = Array.isArray(request.headers.contact) ? (request.headers.contact[0] as NameAddr | undefined)?.uri : undefined;
    const charset = record && isDeviceCharset(record.charset) ? record.charset : this.config.defaultCharset;
    const session: DeviceSession = {
      id,
      remote,
      contact,
      callId: request.headers['call-id'],
      registeredAt: now,
      expires,
      lastKeepaliveAt: now,
      heartbeatInterval: record?.heartbeatInterval ?? this.config.heartbeatInterval,
      heartbeatCount: record?.heartbeatCount ?? this.config.heartbeatCount,
      charset,
      streamMode: record?.streamMode ?? this.config.defaultStreamMode,
      persistedKeepaliveAt: now,
    };
    this.sessions.set(session);
    const first = !previous;
    this.store.upsert(id, {
      transport: remote.protocol,
      address: remoteKey(remote),
      online: true,
      callId: session.callId,
      registeredAt: now,
      keepaliveAt: now,
      expires,
      charset,
      streamMode: session.streamMode,
      ...(first ? { onlineAt: now, offlineReason: null } : {}),
    });
    return { session, first };
  }
}

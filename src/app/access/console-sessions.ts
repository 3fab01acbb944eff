import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleSession {
  readonly id: string;
  /** Sent back by the page in `x-csrf-token` on every request that changes something. */
  readonly csrfToken: string;
  readonly expiresAt: number;
}

/** Logins kept at most; the oldest is dropped beyond it (a login flood costs bounded memory). */
const MAX_SESSIONS = 1000;

/** Console logins: random session ids (the HttpOnly cookie) with their CSRF token, in memory. */
export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly ttlMs: number) {}

  create(now = Date.now()): ConsoleSession {
    this.sweep(now);
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const session = { id: randomBytes(32).toString('base64url'), csrfToken: randomBytes(24).toString('base64url'), expiresAt: now + this.ttlMs };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined, now = Date.now()): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private sweep(now: number): void {
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}

/** Constant-time equality of two strings from the wire (lengths are not secret). */
export function safeEqual(given: string | undefined, wanted: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(wanted);
  return a.length === b.length && timingSafeEqual(a, b);
}

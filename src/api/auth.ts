import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';

/** What the API needs of the app's access control (src/app/access). */
export interface AuthService {
  isAdminSecret(value: string | undefined): boolean;
  readonly sessions: {
    create(): { id: string; csrfToken: string; expiresAt: number };
    get(id: string | undefined): { csrfToken: string; expiresAt: number } | undefined;
    delete(id: string | undefined): void;
  };
  sign(request: { path: string; action?: 'play' | 'publish'; expiresIn?: number; ip?: string }): { path: string; action: string; token: string; expiresAt: number; query: string };
  /** Every protocol's URL of a path for the host the client used, with `query` appended. */
  urls(path: string, host: string, query: string): Record<string, string>;
}

export interface AuthApiDeps {
  service: AuthService;
  /** Browser origins allowed to call the API cross-origin (http.cors.origins). */
  origins: readonly string[];
  /** Login attempts per client address per minute. */
  loginLimit: number;
  sessionTtlSec: number;
}

export const SESSION_COOKIE = 'gw_session';
export const CSRF_HEADER = 'x-csrf-token';
/** Routes reachable without credentials: liveness (says nothing secret) and the login itself. */
const OPEN_ROUTES = new Set(['GET /api/health', 'HEAD /api/health', 'POST /api/auth/login']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The value of one cookie in a Cookie header (RFC 6265 §5.4 pairs). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** The token of an `Authorization: Bearer <token>` header. Spec: RFC 6750 §2.1 */
export function bearerOf(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : /^Bearer (.+)$/i.exec(authorization)?.[1];
}

function deny(reply: FastifyReply, status: 401 | 403, code: string, message: string): FastifyReply {
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="gateway"');
  return reply.code(status).send({ code, message });
}

/** An `Origin` that is neither the gateway's own nor a configured one is refused outright. */
function foreignOrigin(request: FastifyRequest, origins: readonly string[]): string | undefined {
  const origin = request.headers.origin;
  if (!origin || origins.includes(origin)) return undefined;
  const host = request.headers.host;
  return host && /^https?:\/\/(.*)$/.exec(origin)?.[1] === host ? undefined : origin;
}

/**
 * Every /api route needs credentials: `Authorization: Bearer <auth.secret>`, or the console's
 * session cookie (HttpOnly, SameSite=Strict) with its CSRF token in `x-csrf-token` on anything
 * that changes state. Registered on the root instance before any route.
 */
export function installApiGuard(app: FastifyInstance, deps: AuthApiDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    const url = request.url;
    if (url !== '/api' && !url.startsWith('/api/') && !url.startsWith('/api?')) return;
    const foreign = foreignOrigin(request, deps.origins);
    if (foreign) return deny(reply, 403, 'FORBIDDEN', 'cross-origin request from an origin not in http.cors.origins');
    if (request.method === 'OPTIONS') return;
    const route = `${request.method} ${url.split('?')[0]}`;
    if (OPEN_ROUTES.has(route)) return;
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      if (deps.service.isAdminSecret(bearerOf(authorization))) return;
      return deny(reply, 401, 'UNAUTHORIZED', 'wrong credentials (expected Authorization: Bearer <auth.secret>)');
    }
    const session = deps.service.sessions.get(cookieValue(request.headers.cookie, SESSION_COOKIE));
    if (!session) return deny(reply, 401, 'UNAUTHORIZED', 'the API needs Authorization: Bearer <auth.secret>, or a console login (POST /api/auth/login)');
    if (!SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== session.csrfToken) {
      return deny(reply, 403, 'FORBIDDEN', `missing or wrong ${CSRF_HEADER} header (the console sends the token its login answered)`);
    }
    return undefined;
  });
}

const SIGN_BODY = {
  type: 'object',
  properties: {
    path: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}$', description: 'app/stream' },
    action: { type: 'string', enum: ['play', 'publish'], default: 'play' },
    expiresIn: { type: 'integer', minimum: 10, maximum: 366 * 86_400, description: 'seconds; default auth.tokenTtl' },
    ip: { type: 'string', maxLength: 45, pattern: '^[0-9A-Fa-f.:]+$', description: 'only this client IP may use it' },
  },
  required: ['path'],
  additionalProperties: false,
} as const;

/** /api/auth: console login (rate-limited), logout, session, and signed URLs. */
export async function authApi(app: FastifyInstance, deps: AuthApiDeps): Promise<void> {
  await app.register(rateLimit, { global: false });
  const cookie = (value: string, maxAge: number): string => `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`;

  app.post<{ Body: { secret: string } }>(
    '/api/auth/login',
    {
      config: { rateLimit: { max: deps.loginLimit, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Console login with auth.secret: sets an HttpOnly session cookie and answers its CSRF token (rate-limited per address)',
        body: { type: 'object', properties: { secret: { type: 'string', maxLength: 512 } }, required: ['secret'], additionalProperties: false },
      },
    },
    async (request, reply) => {
      if (!deps.service.isAdminSecret(request.body.secret)) return deny(reply, 401, 'UNAUTHORIZED', 'wrong secret');
      const session = deps.service.sessions.create();
      void reply.header('set-cookie', cookie(session.id, deps.sessionTtlSec));
      return { csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    },
  );

  app.get('/api/auth/session', { schema: { tags: ['auth'], summary: 'The console session: its CSRF token and expiry (after a page reload)' } }, async (request) => {
    const session = deps.service.sessions.get(cookieValue(request.headers.cookie, SESSION_COOKIE));
    return session ? { login: 'console', csrfToken: session.csrfToken, expiresAt: session.expiresAt } : { login: 'bearer' };
  });

  app.post('/api/auth/logout', { schema: { tags: ['auth'], summary: 'End the console session' } }, async (request, reply) => {
    deps.service.sessions.delete(cookieValue(request.headers.cookie, SESSION_COOKIE));
    void reply.header('set-cookie', cookie('', 0));
    return { loggedOut: true };
  });

  app.post<{ Body: { path: string; action?: 'play' | 'publish'; expiresIn?: number; ip?: string } }>(
    '/api/auth/sign',
    {
      schema: {
        tags: ['auth'],
        summary: 'A signed URL for one path: play (?token=, for auth.play: token) or publish (?sign=); HMAC over path, expiry and optional client IP',
        body: SIGN_BODY,
      },
    },
    async (request) => {
      const signed = deps.service.sign(request.body);
      return { ...signed, urls: deps.service.urls(signed.path, request.hostname, `?${signed.query}`) };
    },
  );
}

/**
 * Masking of secrets in text that reaches a log line or an API answer: the password of any
 * `scheme://user:password@` URL, and the values of query parameters that carry credentials
 * (`?key=`, `token=`, `sign=`, `password=` ...). One implementation for the RTSP proxy status,
 * the logger and the API.
 */
export const MASK = '***';

const URL_USERINFO = /\b([a-z][a-z0-9+.-]{1,15}:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;
const SECRET_PARAM = /([?&;](?:key|token|sign|secret|password|passwd|pwd|pass|auth|authorization|access_token)=)([^&\s#"']+)/gi;
/** Object keys whose values are secrets wherever they appear in a log object. */
const SECRET_KEY = /^(?:password|passwd|secret|publishKey|sipPassword|token|authorization|cookie|csrfToken)$/i;

/** A PEM private key (tls.key), whole: nothing of it reaches a log even if a line carries one. */
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;

/** `text` with URL passwords, credential query values and PEM private keys replaced by `***`. */
export function maskSecrets(text: string): string {
  if (text.includes('PRIVATE KEY-----')) text = text.replace(PEM_PRIVATE_KEY, MASK);
  if (!text.includes('=') && !text.includes('@')) return text;
  return text.replace(URL_USERINFO, (_all, scheme: string, user: string) => `${scheme}${user}:${MASK}@`).replace(SECRET_PARAM, (_all, name: string) => `${name}${MASK}`);
}

/**
 * A copy of a log object with secret-named keys masked and every string passed through
 * `maskSecrets`, down to `depth` levels (Buffers and errors are left to their serializers).
 */
export function maskObject(value: unknown, depth = 4): unknown {
  if (typeof value === 'string') return maskSecrets(value);
  if (depth <= 0 || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (value instanceof Error) return maskError(value);
  if (Array.isArray(value)) return value.map((item) => maskObject(item, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && (typeof item === 'string' || typeof item === 'number') && item !== '' ? MASK : maskObject(item, depth - 1);
  }
  return out;
}

function maskError(err: Error): Error {
  const masked = maskSecrets(err.message);
  if (masked === err.message && !(err.stack && maskSecrets(err.stack) !== err.stack)) return err;
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
  Object.assign(copy, err, { message: masked, stack: err.stack ? maskSecrets(err.stack) : undefined });
  return copy;
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the epoch-ms time the body was signed at. */
export const HOOK_TIMESTAMP_HEADER = 'x-gateway-timestamp';
/** Header carrying `sha256=<hex HMAC-SHA256(hooks.secret, "<timestamp>.<body>")>`. */
export const HOOK_SIGNATURE_HEADER = 'x-gateway-signature';

/**
 * The signature of one hook body. The timestamp is inside the signed text so that a receiver
 * can refuse replays older than it is willing to accept.
 */
export function signHookBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time. Never throws. */
export function verifyHookSignature(secret: string, timestamp: string | undefined, body: string, signature: string | undefined): boolean {
  if (!timestamp || !signature) return false;
  const expected = Buffer.from(signHookBody(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * The TLS options of every client the gateway dials (rtmps:// pushes and pulls, https:// FLV
 * pulls): one implementation of what is trusted and how the server's name is checked.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, rootCertificates, type ConnectionOptions, type PeerCertificate } from 'node:tls';

/** What a client trusts: Node's CA bundle plus `ca` (the PEMs of tls.ca and relay.tlsCaFile). */
export interface TlsTrust {
  /** PEM CA certificates trusted besides Node's bundle (a private CA). */
  readonly ca?: readonly string[];
  /** Accept a certificate no trusted CA signed (a private CDN's own); its host name must still match. */
  readonly allowSelfSigned?: boolean;
}

/** Verification failures that only say "no trusted CA signed this": what allowSelfSigned forgives. */
const UNTRUSTED_ISSUER = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/**
 * `tls.connect` options for `host:port`: SNI for a name (not an IP), the extra CAs on top of
 * Node's bundle, and with `allowSelfSigned` the chain check replaced by `checkPeer` (Node skips
 * the host name check when the chain fails, so it is done there).
 */
export function tlsClientOptions(host: string, port: number, trust: TlsTrust = {}): ConnectionOptions {
  const extra = (trust.ca ?? []).filter((pem) => pem.trim() !== '');
  return {
    host,
    port,
    ...(isIP(host) ? {} : { servername: host }),
    ...(extra.length > 0 ? { ca: [...rootCertificates, ...extra] } : {}),
    rejectUnauthorized: !trust.allowSelfSigned,
  };
}

/** The part of a TLS socket `checkPeer` reads (after `secureConnect`). */
export interface VerifiedPeer {
  readonly authorized: boolean;
  readonly authorizationError?: Error | string | null;
  getPeerCertificate(): PeerCertificate;
}

/**
 * Why the server of a connection made with `tlsClientOptions` is not to be talked to, or
 * undefined. Without allowSelfSigned Node has refused a bad peer already; with it, only an
 * untrusted issuer is forgiven, never a wrong host name, an expired or a malformed certificate.
 */
export function checkPeer(socket: VerifiedPeer, host: string, trust: TlsTrust = {}): Error | undefined {
  if (socket.authorized || !trust.allowSelfSigned) return undefined;
  const reason = String(socket.authorizationError ?? 'unverified');
  if (!UNTRUSTED_ISSUER.has(reason)) return new Error(`certificate refused: ${reason}`);
  return checkServerIdentity(host, socket.getPeerCertificate());
}

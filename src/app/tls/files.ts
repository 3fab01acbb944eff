/**
 * The PEM files of tls.cert / tls.key / tls.ca (and relay.tlsCaFile), read and checked the one
 * way every listener and client uses them. Errors name the key and the file, never the bytes.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { GatewayConfig } from '../../config/schema';
import { GatewayError, errorMessage } from '../../core/errors';

/** A certificate and key that OpenSSL accepted as a pair, ready for `setSecureContext`. */
export interface ServerTls {
  readonly options: SecureContextOptions;
  /** What may be logged about it (public parts of the leaf certificate only). */
  readonly summary: CertificateSummary;
}

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint256: string;
  /** base64 SHA-256 of the SubjectPublicKeyInfo (what HPKP and Chromium's spki list name). */
  readonly spkiSha256: string;
  readonly expired: boolean;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

function readPem(key: string, file: string, marker: RegExp, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new GatewayError('CONFIG_INVALID', `config key "${key}": cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  if (!marker.test(bytes.toString('latin1'))) throw new GatewayError('CONFIG_INVALID', `config key "${key}": ${file} holds no PEM ${what}`);
  return bytes;
}

/** The leaf certificate's public facts. */
export function summarize(certPem: Buffer | string, now = Date.now()): CertificateSummary {
  const cert = new X509Certificate(certPem);
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    subjectAltName: cert.subjectAltName ?? '',
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    fingerprint256: cert.fingerprint256,
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
    expired: Date.parse(cert.validTo) < now,
  };
}

/**
 * Reads tls.cert and tls.key and has OpenSSL build a
 * context from them, so a key that does not match the certificate fails here, not at the first
 * handshake. Throws CONFIG_INVALID naming the key and file.
 */
export function readServerTls(config: Pick<GatewayConfig['tls'], 'cert' | 'key'>): ServerTls {
  const cert = readPem('tls.cert', config.cert, CERTIFICATE, 'certificate');
  const key = readPem('tls.key', config.key, PRIVATE_KEY, 'private key');
  const options: SecureContextOptions = { cert, key };
  try {
    createSecureContext(options);
  } catch (err) {
    // OpenSSL's reason ("key values mismatch", "bad decrypt") carries no key material.
    throw new GatewayError('CONFIG_INVALID', `config keys "tls.cert"/"tls.key": ${config.cert} and ${config.key} are not a usable pair: ${openSslReason(err)}`);
  }
  let summary: CertificateSummary;
  try {
    summary = summarize(cert);
  } catch (err) {
    throw new GatewayError('CONFIG_INVALID', `config key "tls.cert": ${config.cert} is not a valid certificate: ${openSslReason(err)}`);
  }
  return { options, summary };
}

/** The CA PEMs the gateway's TLS clients trust besides Node's bundle: tls.ca and relay.tlsCaFile. */
export function readTrustedCas(config: Pick<GatewayConfig, 'tls' | 'relay'>): string[] {
  const files: [string, string][] = [
    ['tls.ca', config.tls.ca],
    ['relay.tlsCaFile', config.relay.tlsCaFile],
  ];
  return files.filter(([, file]) => file !== '').map(([key, file]) => readPem(key, file, CERTIFICATE, 'certificate').toString('utf8'));
}

function openSslReason(err: unknown): string {
  const message = errorMessage(err);
  return /routines::([^\n]+)$/.exec(message)?.[1] ?? message.slice(0, 200);
}

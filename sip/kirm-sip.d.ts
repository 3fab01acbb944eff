/**
 * Types for the parts of the `sip` package (kirm sip.js 0.0.6) that sip/ uses. Only sip/
 * imports the package: gb28181/ and the app see the typed interface in message.ts / stack.ts.
 */
declare module 'sip' {
  /** A message as the package represents it: lower-case header names, content as a binary (latin1) string. */
  export interface KirmMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    headers: Record<string, unknown>;
    content?: string;
  }

  export interface KirmConnection {
    send(message: KirmMessage): void;
    release(): void;
    protocol: string;
  }

  export interface KirmTransaction {
    send?(message: KirmMessage): void;
    message?(message: KirmMessage, remote?: unknown): void;
    shutdown(): void;
  }

  export interface KirmTransactionLayer {
    createServerTransaction(rq: KirmMessage, cn: KirmConnection): KirmTransaction;
    createClientTransaction(cn: KirmConnection, rq: KirmMessage, callback: (rs: KirmMessage) => void): KirmTransaction;
    getServer(m: KirmMessage): KirmTransaction | undefined;
    getClient(m: KirmMessage): KirmTransaction | undefined;
    destroy(): void;
  }

  export interface KirmUri {
    schema: string;
    user?: string;
    password?: string;
    host: string;
    port: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }

  /** Parses one whole message (a datagram or a framed stream message); undefined if it is not SIP. */
  export function parse(data: string | Buffer): KirmMessage | undefined;
  export function stringify(message: KirmMessage): string;
  export function parseUri(uri: string): KirmUri | undefined;
  export function stringifyUri(uri: KirmUri | string): string;
  export function makeResponse(rq: KirmMessage, status: number, reason?: string, extension?: { headers?: Record<string, unknown>; content?: string }): KirmMessage;
  export function makeTransactionLayer(options: Record<string, unknown>, transport: unknown): KirmTransactionLayer;
  export function generateBranch(): string;
}

declare module 'sip/digest' {
  /** MD5 of the arguments joined by ':' as lower-case hex (RFC 2617 KD/H). */
  export function kd(...parts: string[]): string;
  export function calculateUserRealmPasswordHash(user: string, realm: string, password: string): string;
  export function calculateDigest(ctx: { ha1: string; method: string; nonce: string; nc?: string; cnonce?: string; qop?: string; uri: string; entity?: string }): string;
}

import { createWriteStream } from 'node:fs';
import { connect } from 'node:net';
import WebSocket from 'ws';

/** Reads an HTTP-FLV URL for `ms` into `file` (body only); resolves with the status and byte count. */
export function captureHttp(url: string, file: string, ms: number): Promise<{ status: number; bytes: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port, pathname, search } = new URL(url);
    const socket = connect(Number(port), hostname);
    const out = createWriteStream(file);
    let head = Buffer.alloc(0);
    let status = 0;
    let bytes = 0;
    let errorBody = '';
    const finish = (): void => {
      socket.destroy();
      out.end(() => resolve({ status, bytes, body: errorBody }));
    };
    const timer = setTimeout(finish, ms);
    socket.on('connect', () => socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      if (status === 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = Number(/^HTTP\/1\.1 (\d+)/.exec(head.subarray(0, end).toString())?.[1] ?? 0);
        chunk = head.subarray(end + 4);
      }
      if (status !== 200) errorBody += chunk.toString();
      else {
        bytes += chunk.length;
        out.write(chunk);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      finish();
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      out.end();
      reject(err);
    });
  });
}

/** Reads a WebSocket-FLV URL for `ms` into `file`. */
export function captureWs(url: string, file: string, ms: number): Promise<{ bytes: number; messages: number; closeCode?: number; closeReason?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const out = createWriteStream(file);
    let bytes = 0;
    let messages = 0;
    const timer = setTimeout(() => ws.close(), ms);
    ws.on('message', (data: Buffer) => {
      messages++;
      bytes += data.length;
      out.write(data);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      out.end(() => resolve({ bytes, messages, closeCode: code, closeReason: reason.toString() }));
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      out.end();
      reject(err);
    });
  });
}

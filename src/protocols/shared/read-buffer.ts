import type { Socket } from 'node:net';

/**
 * Reads an accepted TCP socket into a caller's Buffer, as `net.connect({ onread })` does for a
 * client socket, instead of a new ArrayBuffer per read pushed through the socket's Readable.
 *
 * Why: an RTMP publisher's frames arrive one read each; every read cost an ArrayBuffer of its
 * size (V8 counts those bytes as young external memory and runs a scavenge for each ~32 MB of
 * them) and a trip through Readable.push/emit. Node offers `onread` only to sockets it creates
 * for `net.connect`/`new Socket`, not to those a `net.Server` accepts, so this sets the same
 * two fields `new Socket({ onread })` sets (found by their symbol descriptions) and switches the
 * handle to the user buffer (`useUserBuffer`, what `onread` itself calls).
 *
 * The Buffer is overwritten by the next read of any socket sharing it: `onBytes` must consume
 * or copy what it needs before it returns. Returns false, changing nothing, when the socket
 * cannot be switched (TLS, a socket that already delivered data, a Node whose internals
 * differ): the caller then reads 'data' events as before.
 */
export function readIntoBuffer(socket: Socket, buffer: Buffer, onBytes: (bytes: Buffer) => void): boolean {
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (buf: Uint8Array) => void } })._handle;
  if ((socket as { encrypted?: boolean }).encrypted || socket.bytesRead > 0) return false;
  if (!handle || typeof handle.useUserBuffer !== 'function') return false;
  const symbols = new Map<string, symbol>();
  for (const s of Object.getOwnPropertySymbols(socket)) if (s.description) symbols.set(s.description, s);
  const kBuffer = symbols.get('kBuffer');
  const kBufferCb = symbols.get('kBufferCb');
  if (!kBuffer || !kBufferCb) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[kBuffer] !== null || fields[kBufferCb] !== null) return false;
  fields[kBuffer] = buffer;
  fields[kBufferCb] = (bytes: number): boolean => {
    onBytes(buffer.subarray(0, bytes));
    return true;
  };
  handle.useUserBuffer(buffer);
  return true;
}

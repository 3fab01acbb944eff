import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

/** Charsets a device may be configured with; GB2312/GBK are read and written as GB18030 (their superset). */
export const DEVICE_CHARSETS = ['GB2312', 'GBK', 'GB18030', 'UTF-8'] as const;
export type DeviceCharset = (typeof DEVICE_CHARSETS)[number];

export interface DecodedText {
  readonly text: string;
  readonly charset: 'UTF-8' | 'GB18030';
}

/**
 * Decodes a MANSCDP body whatever it declares: valid UTF-8 is read as UTF-8 (devices that declare
 * GB2312 but send UTF-8 are common), anything else as GB18030, which covers GB2312 and GBK and the
 * rare characters GB2312 lacks.
 */
export function decodeBody(buf: Buffer): DecodedText {
  // isUtf8 checks without throwing (a TextDecoder with fatal: true costs an exception per GB body).
  if (isUtf8(buf)) return { text: buf.toString('utf8'), charset: 'UTF-8' };
  return { text: iconv.decode(buf, 'gb18030'), charset: 'GB18030' };
}

/** Encodes an outgoing body in the device's charset (bytes: Content-Length is their count). */
export function encodeBody(text: string, charset: DeviceCharset): Buffer {
  return charset === 'UTF-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'gb18030');
}

export function isDeviceCharset(value: string): value is DeviceCharset {
  return (DEVICE_CHARSETS as readonly string[]).includes(value);
}

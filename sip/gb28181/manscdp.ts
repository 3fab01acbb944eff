import { XMLParser } from 'fast-xml-parser';
import { ParseError, parseAssert } from '../../src/core/errors';
import { decodeBody } from './charset';

/**
 * MANSCDP bodies (Application/MANSCDP+xml): `<Query|Response|Notify|Control>` with CmdType, SN
 * and DeviceID. Decoding: charset by content (charset.ts), repair of what cameras send unescaped,
 * then fast-xml-parser. Throws ParseError only.
 * Spec: GB/T 28181-2016 §A.2
 */
export type ManscdpRoot = 'Query' | 'Response' | 'Notify' | 'Control';
const ROOTS: readonly ManscdpRoot[] = ['Query', 'Response', 'Notify', 'Control'];

/** A parsed element: text, or children by name (repeated children as arrays). */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

export interface ManscdpMessage {
  readonly root: ManscdpRoot;
  readonly cmdType: string;
  readonly sn: number;
  readonly deviceId: string;
  readonly body: XmlObject;
  readonly charset: 'UTF-8' | 'GB18030';
}

export const MAX_MANSCDP_BYTES = 1024 * 1024;
const MAX_DEPTH = 32;
/** Elements that may repeat and are always read as arrays. */
const ARRAY_ELEMENTS = new Set(['Item', 'Alarmstatus', 'Info']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => ARRAY_ELEMENTS.has(name),
});

const ENTITY = /&(?:#\d{1,7}|#x[0-9A-Fa-f]{1,6}|amp|lt|gt|quot|apos);/y;
const ELEMENT_TAG = /<\/?[A-Za-z_][\w.:-]*(?:\s[^<>]*)?\/?>/y;
const SPECIAL: readonly [open: string, close: string][] = [
  ['<?', '?>'],
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
];

/**
 * Escapes the `&` that do not start an entity and the `<` that do not start a tag (Hikvision
 * puts raw `&`/`<` in `<Address>` and names), so the parser sees well-formed text. Linear time.
 */
export function repairXml(text: string): string {
  let out = '';
  let last = 0;
  const closeAt = new Map<string, number>();
  const findClose = (close: string, from: number): number => {
    const known = closeAt.get(close);
    if (known !== undefined && (known === -1 || known >= from)) return known;
    const found = text.indexOf(close, from);
    closeAt.set(close, found);
    return found;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x26 /* & */) {
      ENTITY.lastIndex = i;
      if (ENTITY.test(text)) continue;
      out += text.slice(last, i) + '&amp;';
      last = i + 1;
    } else if (c === 0x3c /* < */) {
      ELEMENT_TAG.lastIndex = i;
      if (ELEMENT_TAG.test(text)) {
        i = ELEMENT_TAG.lastIndex - 1;
        continue;
      }
      const special = SPECIAL.find(([open]) => text.startsWith(open, i));
      const end = special ? findClose(special[1], i + special[0].length) : -1;
      if (special && end >= 0) {
        i = end + special[1].length - 1;
        continue;
      }
      out += text.slice(last, i) + '&lt;';
      last = i + 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

function checkDepth(text: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 0x3c) continue;
    const next = text.charCodeAt(i + 1);
    if (next === 0x2f /* / */) depth--;
    else if (next !== 0x3f && next !== 0x21) {
      const close = text.indexOf('>', i);
      if (close > 0 && text.charCodeAt(close - 1) === 0x2f) continue;
      depth++;
      parseAssert(depth <= MAX_DEPTH, `MANSCDP nested deeper than ${MAX_DEPTH} elements`);
    }
  }
}

/**
 * The common keepalive, exactly as devices send it, read without the XML parser (it is most of
 * the steady-state traffic). Anything else, or anything unusual, goes through the parser.
 */
const KEEPALIVE =
  /^\s*(?:<\?xml[^<>]{0,100}\?>\s*)?<Notify>\s*<CmdType>Keepalive<\/CmdType>\s*<SN>(\d{1,10})<\/SN>\s*<DeviceID>([0-9A-Za-z]{1,64})<\/DeviceID>\s*<Status>([A-Za-z]{0,16})<\/Status>\s*<\/Notify>\s*$/;

function quickKeepalive(text: string, charset: ManscdpMessage['charset']): ManscdpMessage | undefined {
  if (text.length > 400) return undefined;
  const m = KEEPALIVE.exec(text);
  if (!m) return undefined;
  return { root: 'Notify', cmdType: 'Keepalive', sn: Number(m[1]), deviceId: m[2]!, body: { CmdType: 'Keepalive', SN: m[1]!, DeviceID: m[2]!, Status: m[3]! }, charset };
}

/** Decodes, repairs and parses a MANSCDP body. */
export function parseManscdp(body: Buffer): ManscdpMessage {
  parseAssert(body.length > 0, 'empty MANSCDP body');
  parseAssert(body.length <= MAX_MANSCDP_BYTES, `MANSCDP body larger than ${MAX_MANSCDP_BYTES} bytes`);
  const { text, charset } = decodeBody(body);
  const keepalive = quickKeepalive(text, charset);
  if (keepalive) return keepalive;
  parseAssert(!/<!(?:DOCTYPE|ENTITY)/i.test(text), 'MANSCDP with a DOCTYPE or ENTITY declaration');
  const repaired = repairXml(text);
  checkDepth(repaired);
  let doc: unknown;
  try {
    doc = parser.parse(repaired);
  } catch (err) {
    throw new ParseError(`MANSCDP is not XML: ${err instanceof Error ? err.message.slice(0, 120) : 'parse failed'}`);
  }
  parseAssert(doc && typeof doc === 'object', 'MANSCDP without a root element');
  const root = ROOTS.find((name) => Object.prototype.hasOwnProperty.call(doc, name));
  parseAssert(root, 'MANSCDP root is not Query, Response, Notify or Control');
  const element = (doc as Record<string, unknown>)[root];
  parseAssert(element && typeof element === 'object' && !Array.isArray(element), `MANSCDP <${root}> is empty`);
  const fields = element as XmlObject;
  const cmdType = textOf(fields.CmdType);
  parseAssert(cmdType && /^[A-Za-z]{1,40}$/.test(cmdType), 'MANSCDP without a CmdType');
  const snText = textOf(fields.SN);
  const sn = snText !== undefined && /^\d{1,10}$/.test(snText) ? Number(snText) : -1;
  const deviceId = textOf(fields.DeviceID) ?? '';
  parseAssert(deviceId.length <= 64, 'MANSCDP DeviceID too long');
  return { root, cmdType, sn, deviceId, body: fields, charset };
}

/** The text of an element (its #text when it also has attributes); undefined if absent or not text. */
export function textOf(value: XmlValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return textOf(value[0]);
  if (value && typeof value === 'object') {
    const text = value['#text'];
    if (typeof text === 'string') return text;
    return Object.keys(value).every((k) => k.startsWith('@')) ? '' : undefined;
  }
  return undefined;
}

export function childOf(value: XmlValue | undefined, name: string): XmlValue | undefined {
  if (Array.isArray(value)) return childOf(value[0], name);
  return value && typeof value === 'object' ? value[name] : undefined;
}

/** An element that may repeat, always as an array of objects. */
export function listOf(value: XmlValue | undefined): XmlObject[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.filter((v): v is XmlObject => !!v && typeof v === 'object' && !Array.isArray(v));
}

/** A decimal field; undefined when absent or not a finite number. */
export function numberOf(value: XmlValue | undefined): number | undefined {
  const text = textOf(value)?.trim();
  if (!text || !/^-?\d{1,15}(?:\.\d{1,15})?$/.test(text)) return undefined;
  return Number(text);
}

export function attributeOf(value: XmlValue | undefined, name: string): string | undefined {
  const found = value && typeof value === 'object' && !Array.isArray(value) ? value[`@${name}`] : undefined;
  return typeof found === 'string' ? found : undefined;
}

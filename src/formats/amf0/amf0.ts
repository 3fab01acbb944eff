/**
 * AMF0 encoder and decoder (RTMP command and data messages, FLV script tags).
 *
 * Spec: AMF0 File Format Specification (Adobe, 2007) §2.
 *
 * Decoding maps:
 * - Number, Boolean, String, Long String, XML Document -> number, boolean, string
 * - Null -> null; Undefined and Unsupported -> undefined
 * - Object and Typed Object -> plain object (the class name of a typed object is dropped)
 * - ECMA Array -> {@link Amf0EcmaArray} (so that encode(decode(x)) round-trips; use
 *   {@link amf0Properties} to read an Object or an ECMA array alike)
 * - Strict Array -> array; Date -> Date (the time-zone field is ignored, as the spec says)
 * - Reference -> the same JS value as the complex value it points to (only values that are
 *   already complete: a reference to an enclosing value would make a cycle and is refused)
 * - MovieClip, RecordSet, AVM+ (switch to AMF3) -> ParseError
 */
import { ParseError, parseAssert } from '../../core/errors';

export class Amf0EcmaArray {
  constructor(readonly entries: Record<string, Amf0Value>) {}
}

export type Amf0Value = number | boolean | string | null | undefined | Amf0Value[] | Amf0EcmaArray | Date | { [key: string]: Amf0Value };

/** Type markers. Spec: AMF0 §2.1 */
export const Amf0Marker = {
  number: 0x00,
  boolean: 0x01,
  string: 0x02,
  object: 0x03,
  movieClip: 0x04,
  null: 0x05,
  undefined: 0x06,
  reference: 0x07,
  ecmaArray: 0x08,
  objectEnd: 0x09,
  strictArray: 0x0a,
  date: 0x0b,
  longString: 0x0c,
  unsupported: 0x0d,
  recordSet: 0x0e,
  xmlDocument: 0x0f,
  typedObject: 0x10,
  avmPlus: 0x11,
} as const;

/** Deepest nesting of objects and arrays accepted (and produced). */
export const AMF0_MAX_DEPTH = 32;
/** Longest Long String or XML Document accepted, in bytes. */
export const AMF0_MAX_LONG_STRING_BYTES = 1 << 20;
/** Most elements in one strict array and most properties in one object or ECMA array. */
export const AMF0_MAX_ELEMENTS = 65_536;
/** Most values (of any kind, nested included) in one decode call. */
export const AMF0_MAX_VALUES = 262_144;
/** Most complex values a Reference may point into (the reference table). */
export const AMF0_MAX_REFERENCES = 65_535;

/** The properties of an Object or an ECMA array, or undefined for any other value. */
export function amf0Properties(value: Amf0Value): Record<string, Amf0Value> | undefined {
  if (value instanceof Amf0EcmaArray) return value.entries;
  if (isAmf0Object(value)) return value;
  return undefined;
}

/** True for an AMF0 Object (a plain object: not null, an array, a Date or an ECMA array). */
export function isAmf0Object(value: Amf0Value): value is { [key: string]: Amf0Value } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Amf0EcmaArray);
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface DecodeState {
  readonly buf: Buffer;
  pos: number;
  values: number;
  /** Complex values in order of appearance; undefined while still being decoded. */
  readonly refs: (Amf0Value | undefined)[];
}

/**
 * Decodes every value in `buf` (an RTMP command body holds several in a row).
 * Throws ParseError on truncated or invalid input. Keeps no reference to `buf`.
 */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const state: DecodeState = { buf, pos: 0, values: 0, refs: [] };
  const out: Amf0Value[] = [];
  while (state.pos < buf.length) out.push(readValue(state, 0));
  return out;
}

function need(state: DecodeState, bytes: number, what: string): void {
  parseAssert(state.pos + bytes <= state.buf.length, `AMF0: truncated ${what}`);
}

function readU16(state: DecodeState, what: string): number {
  need(state, 2, what);
  const v = state.buf.readUInt16BE(state.pos);
  state.pos += 2;
  return v;
}

function readU32(state: DecodeState, what: string): number {
  need(state, 4, what);
  const v = state.buf.readUInt32BE(state.pos);
  state.pos += 4;
  return v;
}

function readDouble(state: DecodeState, what: string): number {
  need(state, 8, what);
  const v = state.buf.readDoubleBE(state.pos);
  state.pos += 8;
  return v;
}

function readUtf8(state: DecodeState, length: number, what: string): string {
  need(state, length, what);
  const s = state.buf.toString('utf8', state.pos, state.pos + length);
  state.pos += length;
  return s;
}

function readValue(state: DecodeState, depth: number): Amf0Value {
  parseAssert(depth <= AMF0_MAX_DEPTH, `AMF0: nesting deeper than ${AMF0_MAX_DEPTH}`);
  parseAssert(++state.values <= AMF0_MAX_VALUES, `AMF0: more than ${AMF0_MAX_VALUES} values`);
  need(state, 1, 'type marker');
  const marker = state.buf[state.pos++]!;
  switch (marker) {
    case Amf0Marker.number:
      return readDouble(state, 'number');
    case Amf0Marker.boolean:
      need(state, 1, 'boolean');
      return state.buf[state.pos++] !== 0;
    case Amf0Marker.string:
      return readUtf8(state, readU16(state, 'string length'), 'string');
    case Amf0Marker.longString:
    case Amf0Marker.xmlDocument: {
      const length = readU32(state, 'long string length');
      parseAssert(length <= AMF0_MAX_LONG_STRING_BYTES, `AMF0: long string of ${length} bytes over the cap`);
      return readUtf8(state, length, 'long string');
    }
    case Amf0Marker.null:
      return null;
    case Amf0Marker.undefined:
    case Amf0Marker.unsupported:
      return undefined;
    case Amf0Marker.object:
      return readComplex(state, () => readProperties(state, depth, false));
    case Amf0Marker.typedObject:
      readUtf8(state, readU16(state, 'class name length'), 'class name');
      return readComplex(state, () => readProperties(state, depth, false));
    case Amf0Marker.ecmaArray:
      readU32(state, 'ECMA array count'); // advisory only: encoders often write 0
      return readComplex(state, () => new Amf0EcmaArray(readProperties(state, depth, true)));
    case Amf0Marker.strictArray:
      return readComplex(state, () => readStrictArray(state, depth));
    case Amf0Marker.date: {
      const ms = readDouble(state, 'date');
      readU16(state, 'date time zone');
      return new Date(ms);
    }
    case Amf0Marker.reference:
      return readReference(state);
    case Amf0Marker.objectEnd:
      throw new ParseError('AMF0: object end marker outside an object');
    case Amf0Marker.avmPlus:
      throw new ParseError('AMF0: AVM+ marker (switch to AMF3) is not supported');
    default:
      throw new ParseError(`AMF0: unsupported type marker 0x${marker.toString(16)}`);
  }
}

/** Registers a complex value in the reference table (Spec: AMF0 §2.9) while decoding it. */
function readComplex(state: DecodeState, read: () => Amf0Value): Amf0Value {
  const index = state.refs.length;
  if (index < AMF0_MAX_REFERENCES) state.refs.push(undefined);
  const value = read();
  if (index < AMF0_MAX_REFERENCES) state.refs[index] = value;
  return value;
}

function readReference(state: DecodeState): Amf0Value {
  const index = readU16(state, 'reference');
  parseAssert(index < state.refs.length, `AMF0: reference ${index} to an unknown object`);
  const value = state.refs[index];
  parseAssert(value !== undefined, `AMF0: reference ${index} to an enclosing object (cycle)`);
  return value;
}

/** Object properties up to the end marker. Spec: AMF0 §2.5 */
function readProperties(state: DecodeState, depth: number, endOptional: boolean): Record<string, Amf0Value> {
  const out: Record<string, Amf0Value> = {};
  let count = 0;
  for (;;) {
    // Some encoders end a top-level ECMA array (onMetaData) with the data, without the marker.
    if (endOptional && state.pos === state.buf.length) return out;
    const key = readUtf8(state, readU16(state, 'property name length'), 'property name');
    if (key === '') {
      need(state, 1, 'object end marker');
      if (state.buf[state.pos] === Amf0Marker.objectEnd) {
        state.pos++;
        return out;
      }
    }
    parseAssert(++count <= AMF0_MAX_ELEMENTS, `AMF0: object with more than ${AMF0_MAX_ELEMENTS} properties`);
    // defineProperty: a "__proto__" key from the wire must not set the prototype.
    Object.defineProperty(out, key, {
      value: readValue(state, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

/** Spec: AMF0 §2.12 */
function readStrictArray(state: DecodeState, depth: number): Amf0Value[] {
  const count = readU32(state, 'strict array count');
  parseAssert(count <= AMF0_MAX_ELEMENTS, `AMF0: strict array of ${count} elements over the cap`);
  // Every element takes at least one byte: a count beyond the data is a lie, not an allocation.
  parseAssert(count <= state.buf.length - state.pos, 'AMF0: strict array count beyond the data');
  const out: Amf0Value[] = [];
  for (let i = 0; i < count; i++) out.push(readValue(state, depth + 1));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** A growable output buffer, so that encoding concatenates once. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.reserve(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }

  u32(v: number): void {
    this.reserve(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
  }

  double(v: number): void {
    this.reserve(8);
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  bytes(b: Buffer): void {
    this.reserve(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Encodes values one after the other (an RTMP command: name, transaction id, objects...).
 * Strings over 65535 bytes become Long Strings; arrays become Strict Arrays; plain objects
 * become Objects. Throws RangeError for nesting deeper than AMF0_MAX_DEPTH (or a cycle) and
 * for property names over 65535 bytes: both are programming errors, not wire input.
 */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const w = new Writer();
  for (const value of values) writeValue(w, value, 0);
  return w.result();
}

function writeValue(w: Writer, value: Amf0Value, depth: number): void {
  if (depth > AMF0_MAX_DEPTH) throw new RangeError(`AMF0 encode: nesting deeper than ${AMF0_MAX_DEPTH}`);
  if (typeof value === 'number') {
    w.u8(Amf0Marker.number);
    w.double(value);
  } else if (typeof value === 'boolean') {
    w.u8(Amf0Marker.boolean);
    w.u8(value ? 1 : 0);
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length <= 0xffff) {
      w.u8(Amf0Marker.string);
      w.u16(bytes.length);
    } else {
      w.u8(Amf0Marker.longString);
      w.u32(bytes.length);
    }
    w.bytes(bytes);
  } else if (value === null) {
    w.u8(Amf0Marker.null);
  } else if (value === undefined) {
    w.u8(Amf0Marker.undefined);
  } else if (Array.isArray(value)) {
    w.u8(Amf0Marker.strictArray);
    w.u32(value.length);
    for (const item of value) writeValue(w, item, depth + 1);
  } else if (value instanceof Date) {
    w.u8(Amf0Marker.date);
    w.double(value.getTime());
    w.u16(0);
  } else if (value instanceof Amf0EcmaArray) {
    w.u8(Amf0Marker.ecmaArray);
    w.u32(Object.keys(value.entries).length);
    writeProperties(w, value.entries, depth);
  } else {
    w.u8(Amf0Marker.object);
    writeProperties(w, value, depth);
  }
}

function writeProperties(w: Writer, props: Record<string, Amf0Value>, depth: number): void {
  for (const key of Object.keys(props)) {
    const name = Buffer.from(key, 'utf8');
    if (name.length > 0xffff) throw new RangeError('AMF0 encode: property name over 65535 bytes');
    w.u16(name.length);
    w.bytes(name);
    writeValue(w, props[key], depth + 1);
  }
  w.u16(0);
  w.u8(Amf0Marker.objectEnd);
}

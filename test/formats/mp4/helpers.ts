/** A minimal ISO BMFF box reader for the tests: sizes are checked, children parsed by type. */
export interface ParsedBox {
  readonly type: string;
  readonly start: number;
  readonly size: number;
  /** The payload (after the 8-byte header). */
  readonly body: Buffer;
  readonly children: ParsedBox[];
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'dinf']);

export function parseBoxes(buf: Buffer, base = 0): ParsedBox[] {
  const out: ParsedBox[] = [];
  let o = 0;
  while (o < buf.length) {
    if (buf.length - o < 8) throw new Error(`truncated box header at ${base + o}`);
    const size = buf.readUInt32BE(o);
    const type = buf.toString('latin1', o + 4, o + 8);
    if (size < 8 || o + size > buf.length) throw new Error(`box ${type} at ${base + o} has size ${size}, ${buf.length - o} left`);
    const body = buf.subarray(o + 8, o + size);
    const children = CONTAINERS.has(type) ? parseBoxes(body, base + o + 8) : sampleEntryChildren(type, body, base + o + 8);
    out.push({ type, start: base + o, size, body, children });
    o += size;
  }
  return out;
}

/** stsd and the sample entries hold boxes after fixed fields. */
function sampleEntryChildren(type: string, body: Buffer, base: number): ParsedBox[] {
  if (type === 'stsd') return parseBoxes(body.subarray(8), base + 8);
  if (type === 'avc1' || type === 'hvc1') return parseBoxes(body.subarray(78), base + 78);
  if (type === 'mp4a') return parseBoxes(body.subarray(28), base + 28);
  return [];
}

export function find(boxes: readonly ParsedBox[], path: string): ParsedBox | undefined {
  const [head, ...rest] = path.split('/');
  const hit = boxes.find((b) => b.type === head);
  if (!hit || rest.length === 0) return hit;
  return find(hit.children, rest.join('/'));
}

export interface ParsedTrun {
  readonly dataOffset: number;
  readonly samples: { duration: number; size: number; flags: number; cto: number }[];
}

export function parseTrun(trun: ParsedBox): ParsedTrun {
  const b = trun.body;
  const flags = b.readUInt32BE(0) & 0xffffff;
  if (flags !== 0xf01) throw new Error(`unexpected trun flags ${flags.toString(16)}`);
  const count = b.readUInt32BE(4);
  const dataOffset = b.readInt32BE(8);
  const samples = [];
  for (let i = 0, o = 12; i < count; i++, o += 16) {
    samples.push({ duration: b.readUInt32BE(o), size: b.readUInt32BE(o + 4), flags: b.readUInt32BE(o + 8), cto: b.readInt32BE(o + 12) });
  }
  if (12 + 16 * count !== b.length) throw new Error('trun length does not match its sample count');
  return { dataOffset, samples };
}

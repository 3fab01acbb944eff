import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import { FlvDemuxer, type FlvTag } from '../../../src/formats/flv/demuxer';
import { flvFileHeader, flvTag } from '../../../src/formats/flv/tag';
import { mutated, onlyParseError, readFixture } from '../../codecs/helpers';

/** Tag counts: sequence headers + frames (+ the end-of-sequence tag ffmpeg writes last). */
const FILES = [
  { file: 'ffmpeg-h264-aac.flv', video: 52, audio: 89, script: 1, audioFlag: true, videoFlag: true },
  { file: 'ffmpeg-h264-g711a.flv', video: 52, audio: 16, script: 1, audioFlag: true, videoFlag: true },
  { file: 'ffmpeg-g711u-audio-only.flv', video: 0, audio: 8, script: 1, audioFlag: true, videoFlag: false },
] as const;

const summary = (tags: FlvTag[]): string[] => tags.map((t) => `${t.type}@${t.timestampMs}:${t.body.toString('hex')}`);

describe('FlvDemuxer', () => {
  for (const f of FILES) {
    it(`demuxes ${f.file} (ffmpeg) in one chunk`, () => {
      const demuxer = new FlvDemuxer();
      const tags = demuxer.feed(readFixture('flv', f.file));
      assert.equal(tags.filter((t) => t.type === 9).length, f.video);
      assert.equal(tags.filter((t) => t.type === 8).length, f.audio);
      assert.equal(tags.filter((t) => t.type === 18).length, f.script);
      assert.equal(demuxer.hasAudio, f.audioFlag);
      assert.equal(demuxer.hasVideo, f.videoFlag);
      assert.equal(demuxer.pendingBytes, 0);
      assert.equal(tags[0]!.body.toString('latin1', 3, 13), 'onMetaData');
    });
  }

  it('gives the same tags for any chunking', () => {
    const file = readFixture('flv', 'ffmpeg-h264-aac.flv').subarray(0, 12_000);
    const expected = summary(new FlvDemuxer().feed(file));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 30 }), (sizes) => {
        const demuxer = new FlvDemuxer();
        const tags: FlvTag[] = [];
        let offset = 0;
        for (const size of sizes) {
          tags.push(...demuxer.feed(file.subarray(offset, offset + size)));
          offset += size;
        }
        tags.push(...demuxer.feed(file.subarray(offset)));
        assert.deepEqual(summary(tags), expected);
      }),
      { numRuns: 200 },
    );
  });

  it('handles one byte at a time', () => {
    const file = readFixture('flv', 'ffmpeg-g711u-audio-only.flv');
    const demuxer = new FlvDemuxer();
    const tags: FlvTag[] = [];
    for (let i = 0; i < file.length; i++) tags.push(...demuxer.feed(file.subarray(i, i + 1)));
    assert.deepEqual(summary(tags), summary(new FlvDemuxer().feed(file)));
  });

  it('returns bodies as subarrays of the chunk when a tag fits in it', () => {
    const file = readFixture('flv', 'ffmpeg-h264-aac.flv');
    const [first] = new FlvDemuxer().feed(file);
    assert.equal(first!.body.buffer, file.buffer);
  });

  it('reads extended timestamps and skips unknown tag types', () => {
    const stream = Buffer.concat([
      flvFileHeader({ hasVideo: true, hasAudio: false }),
      ...flvTag(9, 0x01000010, [Buffer.from('1701000000', 'hex')]),
      ...withType(flvTag(9, 5, [Buffer.from('aa', 'hex')]), 15),
      ...flvTag(8, 7, [Buffer.from('af01', 'hex')]),
    ]);
    const tags = new FlvDemuxer().feed(stream);
    assert.deepEqual(
      tags.map((t) => [t.type, t.timestampMs]),
      [
        [9, 0x01000010],
        [8, 7],
      ],
    );
  });

  it('skips a longer header (DataOffset > 9)', () => {
    const header = Buffer.from('464c5601010000000c' + 'aabbcc' + '00000000', 'hex');
    const tags = new FlvDemuxer().feed(Buffer.concat([header, ...flvTag(8, 1, [Buffer.from('af01', 'hex')])]));
    assert.equal(tags.length, 1);
  });

  it('rejects bad signatures, PreviousTagSize mismatches and oversized tags', () => {
    assert.throws(() => new FlvDemuxer().feed(Buffer.from('464c5702050000000900000000', 'hex')), ParseError);
    const good = Buffer.concat([flvFileHeader({ hasVideo: true, hasAudio: true }), ...flvTag(8, 0, [Buffer.alloc(100)])]);
    const badPrevious = Buffer.from(good);
    badPrevious.writeUInt32BE(99, badPrevious.length - 4);
    assert.throws(() => new FlvDemuxer().feed(badPrevious), /PreviousTagSize/);
    assert.equal(new FlvDemuxer({ checkPreviousTagSize: false }).feed(badPrevious).length, 1);
    assert.throws(() => new FlvDemuxer({ maxTagSize: 99 }).feed(good), /cap/);
    const demuxer = new FlvDemuxer();
    assert.throws(() => demuxer.feed(badPrevious), ParseError);
    assert.throws(() => demuxer.feed(good), /failed earlier/);
  });

  it('only throws ParseError on random and mutated streams', () => {
    const sample = readFixture('flv', 'ffmpeg-h264-g711a.flv').subarray(0, 3000);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      mutated(sample),
    );
    fc.assert(
      fc.property(input, fc.integer({ min: 1, max: 700 }), (buf, chunk) => {
        const demuxer = new FlvDemuxer({ maxTagSize: 4096 });
        onlyParseError(() => {
          for (let i = 0; i < buf.length; i += chunk) demuxer.feed(buf.subarray(i, i + chunk));
        });
      }),
      { numRuns: 500 },
    );
  });
});

function withType(parts: Buffer[], type: number): Buffer[] {
  const header = Buffer.from(parts[0]!);
  header[0] = type;
  return [header, ...parts.slice(1)];
}

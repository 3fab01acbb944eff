/**
 * FLV tag bodies (audio 8, video 9, onMetaData) to hub frames on a Publisher: the one ingest
 * step of every FLV carrier (RTMP publish, the RTMP pull, the HTTP-FLV pull).
 *
 * Carriers restart at 0, jump, or (after 49.7 days) wrap their 32-bit ms clock: the raw time
 * is unwrapped, then normalised from `publisher.resumeDts` so that a reconnecting source
 * continues the stream's timeline (hub rules 5 and 6).
 */
import { ParseError } from '../../core/errors';
import { shiftFrame } from '../../core/frame';
import type { Logger } from '../../core/log';
import { RateLimitedLog } from '../../core/log';
import type { Publisher } from '../../core/source';
import { TimestampNormalizer, WrapUnwrapper } from '../../core/time';
import type { Codec } from '../../core/codec';
import { describeTrack, pendingTrack, type Track } from '../../core/track';
import type { Amf0Value } from '../amf0/amf0';
import { FLV_AUDIO_TRACK_ID, FLV_VIDEO_TRACK_ID, FlvBodyDecoder } from './body-decoder';
import { FOURCC_AVC1, FOURCC_HVC1, FOURCC_MP4A, SOUND_FORMAT, VIDEO_CODEC_ID } from './constants';
import { FLV_TAG_VIDEO } from './tag';

function fourCcNumber(value: Amf0Value): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.length === 4) return Buffer.from(value, 'latin1').readUInt32BE(0);
  return undefined;
}

/**
 * The tracks an onMetaData announces (videocodecid 7/12 or FourCC avc1/hvc1, audiocodecid
 * 10/7/8 or FourCC mp4a), as pending tracks with the ids FlvBodyDecoder gives them. Declaring
 * them before the sequence headers arrive lets the hub's track gate wait for both.
 */
export function tracksFromMetadata(meta: Record<string, Amf0Value>): Track[] {
  const video = fourCcNumber(meta.videocodecid);
  const audio = fourCcNumber(meta.audiocodecid);
  let videoCodec: Codec | undefined;
  if (video === VIDEO_CODEC_ID.AVC || video === FOURCC_AVC1) videoCodec = 'h264';
  else if (video === VIDEO_CODEC_ID.HEVC_LEGACY || video === FOURCC_HVC1) videoCodec = 'h265';
  let audioCodec: Codec | undefined;
  if (audio === SOUND_FORMAT.AAC || audio === FOURCC_MP4A) audioCodec = 'aac';
  else if (audio === SOUND_FORMAT.G711_ALAW) audioCodec = 'g711a';
  else if (audio === SOUND_FORMAT.G711_MULAW) audioCodec = 'g711u';
  const out: Track[] = [];
  if (videoCodec) out.push(pendingTrack(FLV_VIDEO_TRACK_ID, videoCodec));
  if (audioCodec) out.push(pendingTrack(FLV_AUDIO_TRACK_ID, audioCodec));
  return out;
}

/** Feeds one source's FLV tag bodies to the hub. */
export class FlvIngest {
  private readonly decoder = new FlvBodyDecoder();
  private readonly unwrap = new WrapUnwrapper(32);
  private readonly normalizer: TimestampNormalizer;
  private readonly tracks = new Map<number, Track>();
  private readonly badPackets: RateLimitedLog;
  frames = 0;

  constructor(
    private readonly publisher: Publisher,
    private readonly log: Logger,
  ) {
    this.normalizer = new TimestampNormalizer(publisher.resumeDts);
    this.badPackets = new RateLimitedLog(log.warn.bind(log), 'FLV ingest: dropping bad media packets');
  }

  /** onMetaData: declares the announced tracks that no sequence header has defined yet. */
  metadata(meta: Record<string, Amf0Value>): void {
    let changed = false;
    for (const track of tracksFromMetadata(meta)) {
      if (this.tracks.has(track.id)) continue;
      this.tracks.set(track.id, track);
      changed = true;
    }
    if (!changed) return;
    this.log.info({ tracks: [...this.tracks.values()].map((t) => t.codec) }, 'tracks announced by onMetaData');
    this.publisher.setTracks([...this.tracks.values()]);
  }

  /** Handles an audio (8) or video (9) tag body; the time is the carrier's 32-bit ms. */
  media(typeId: number, timestamp: number, body: Buffer): void {
    this.addBytesIn(body.length);
    this.decode(typeId, timestamp, body);
  }

  protected addBytesIn(bytes: number): void {
    this.publisher.addBytesIn(bytes);
  }

  protected decode(typeId: number, timestamp: number, body: Buffer): void {
    const ms = this.unwrap.unwrap(timestamp);
    let result: ReturnType<FlvBodyDecoder['video']>;
    try {
      result = typeId === FLV_TAG_VIDEO ? this.decoder.video(ms, body) : this.decoder.audio(ms, body);
    } catch (err) {
      this.dropped(err);
      return;
    }
    if (result.track) this.trackChanged(result.track);
    const frame = result.frame;
    if (!frame) return;
    const { dts, pts } = this.normalizer.normalize(frame.trackId, frame.dts, frame.pts);
    this.frames++;
    this.publisher.write(dts === frame.dts && pts === frame.pts ? frame : shiftFrame(frame, dts, pts));
  }

  private trackChanged(track: Track): void {
    if (this.tracks.get(track.id) === track) return;
    const first = !this.tracks.get(track.id)?.ready;
    this.tracks.set(track.id, track);
    this.log.info({ track: describeTrack(track), trackId: track.id, ready: track.ready }, first ? 'track announced' : 'track changed');
    this.publisher.setTracks([...this.tracks.values()]);
  }

  protected dropped(err: unknown): void {
    if (!(err instanceof ParseError)) throw err;
    this.badPackets.hit({ err: err.message });
  }
}

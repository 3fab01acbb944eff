/**
 * Camera audio in G.711 (A-law, µ-law: what most GB28181 cameras send), which mpegts.js cannot
 * decode: the gateway's audio feed `/ws-audio/{app}/{stream}` beside the video, decoded here with
 * a 256-entry table per law (g711-law.ts) into WebAudio buffers scheduled against the <video>'s
 * clock (g711-clock.ts). Muted by default: the feed is opened by the first unmute (a click, which
 * browsers require before sound) and closed by mute.
 */
import { decodeG711, parseAudioMessage } from './g711-law';
import { RESYNC_MS, scheduleAt, VideoClockMap } from './g711-clock';

export type G711AudioState = 'muted' | 'connecting' | 'playing' | 'no-audio' | 'error';

export interface G711AudioOptions {
  video: HTMLVideoElement;
  /**
   * `ws(s)://HOST/ws-audio/{app}/{stream}` with the same query (sign=) as the video's URL; a
   * function is asked at every open (a recorded range's feed starts where the picture is).
   */
  url: string | (() => string);
  /** Told of every state change, with the server's reason when the feed closed. */
  onState?: (state: G711AudioState, reason?: string) => void;
  /** The player's exact base (stream ms at currentTime 0) when it knows it. */
  baseMs?: () => number | undefined;
}

/** What the level meter (and the e2e test) reads from the audio graph. */
export interface AudioLevel {
  /** Root mean square of the last analyser window, 0..1. */
  rms: number;
  /** Frequency of the strongest analyser bin, Hz. */
  peakHz: number;
}

const SAMPLE_RATE = 8000;
/** The gateway closes a feed without G.711 with this code (4000 + HTTP 415). */
const NO_G711 = 4415;
/**
 * Above this video rate (fast playback) the sound is left out. Below it (a live player catching
 * up at 1.2x) the sound keeps its own pitch at 1x, and frames that fall behind are dropped.
 */
const MAX_AUDIBLE_RATE = 1.5;
/** Scheduled frames remembered for `syncMs` (about 2 s of 20-40 ms frames). */
const SCHEDULED_KEPT = 64;

interface Scheduled {
  source: AudioBufferSourceNode;
  buffer: AudioBuffer;
  startS: number;
  endS: number;
  frameMs: number;
}

export class G711Audio {
  private context: AudioContext | undefined;
  private gain: GainNode | undefined;
  private analyserNode: AnalyserNode | undefined;
  private socket: WebSocket | undefined;
  private readonly clock = new VideoClockMap();
  private nextFreeS = 0;
  private stateNow: G711AudioState = 'muted';
  private scheduled: Scheduled[] = [];
  private readonly onPause = (): void => this.pause();
  private readonly onPlaying = (): void => this.resume();
  /** Frames dropped because they came too late or too early for the picture. */
  dropped = 0;
  played = 0;

  /**
   * A paused <video> closes the feed and silences what was scheduled; playing again reopens it
   * (a recorded range's feed then starts where the picture is).
   */
  constructor(private readonly options: G711AudioOptions) {
    options.video.addEventListener('pause', this.onPause);
    options.video.addEventListener('playing', this.onPlaying);
  }

  get state(): G711AudioState {
    return this.stateNow;
  }

  /** The analyser between the decoded audio and the speakers (after the first unmute). */
  get analyser(): AnalyserNode | undefined {
    return this.analyserNode;
  }

  /** Call from a click handler: browsers start an AudioContext only on a user gesture. */
  async unmute(): Promise<void> {
    const context = this.graph();
    await context.resume();
    if (this.gain) this.gain.gain.value = 1;
    if (this.socket) return;
    // A picture that has not started yet (a range just opened) is waited for: 'playing' opens the feed.
    if (this.moving()) this.open();
    else this.setState('connecting');
  }

  mute(): void {
    if (this.gain) this.gain.gain.value = 0;
    this.closeSocket();
    this.silence();
    this.setState('muted');
  }

  /**
   * How far the sound is ahead of the picture now, ms (the sounding frame's stream time against
   * the video's), or undefined when nothing sounds.
   */
  syncMs(): number | undefined {
    const context = this.context;
    const baseMs = this.clock.baseMs();
    if (!context || baseMs === undefined) return undefined;
    const now = context.currentTime;
    const sounding = this.scheduled.find((s) => s.startS <= now && now < s.endS);
    if (!sounding) return undefined;
    return sounding.frameMs + (now - sounding.startS) * 1000 - (baseMs + this.options.video.currentTime * 1000);
  }

  level(): AudioLevel {
    const analyser = this.analyserNode;
    if (!analyser || !this.context) return { rms: 0, peakHz: 0 };
    const wave = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(wave);
    let sum = 0;
    for (const v of wave) sum += v * v;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let peak = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i]! > bins[peak]!) peak = i;
    return { rms: Math.sqrt(sum / wave.length), peakHz: (peak * this.context.sampleRate) / analyser.fftSize };
  }

  close(): void {
    this.options.video.removeEventListener('pause', this.onPause);
    this.options.video.removeEventListener('playing', this.onPlaying);
    this.closeSocket();
    void this.context?.close();
    this.context = undefined;
  }

  private graph(): AudioContext {
    if (this.context) return this.context;
    const context = new AudioContext();
    const gain = context.createGain();
    const analyser = context.createAnalyser();
    analyser.fftSize = 4096;
    gain.connect(analyser);
    analyser.connect(context.destination);
    this.context = context;
    this.gain = gain;
    this.analyserNode = analyser;
    return context;
  }

  private open(): void {
    this.setState('connecting');
    this.clock.reset();
    const url = this.options.url;
    const socket = new WebSocket(typeof url === 'string' ? url : url());
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === 'string') this.setState('playing');
      else this.play(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.setState(event.code === NO_G711 ? 'no-audio' : event.code === 1000 ? 'muted' : 'error', event.reason);
    };
    this.socket = socket;
  }

  private play(data: ArrayBuffer): void {
    const context = this.context;
    const gain = this.gain;
    const frame = parseAudioMessage(data);
    if (!context || !gain || !frame) return;
    const video = this.options.video;
    const frameMs = frame.dts / 90;
    const samples = frame.codes.length;
    if (video.buffered.length > 0) this.clock.addSample(frameMs + (samples * 1000) / SAMPLE_RATE, video.buffered.end(video.buffered.length - 1));
    this.clock.setExactBase(this.options.baseMs?.());
    const baseMs = this.clock.baseMs();
    const audible = baseMs !== undefined && this.moving() && video.playbackRate <= MAX_AUDIBLE_RATE;
    if (!audible) {
      this.dropped++;
      return;
    }
    const ahead = this.syncMs();
    if (ahead !== undefined && Math.abs(ahead) > RESYNC_MS) this.replan(context, baseMs);
    const buffer = context.createBuffer(1, samples, SAMPLE_RATE);
    decodeG711(frame.codes, frame.law, buffer.getChannelData(0));
    if (this.schedule(context, gain, buffer, frameMs, baseMs)) this.played++;
    else this.dropped++;
    if (this.scheduled.length > SCHEDULED_KEPT) this.scheduled.shift();
  }

  /** Starts a decoded frame where its instant of the picture will be on screen; false when it is too late or too early. */
  private schedule(context: AudioContext, gain: GainNode, buffer: AudioBuffer, frameMs: number, baseMs: number): boolean {
    const video = this.options.video;
    const at = scheduleAt({ frameMs, baseMs, videoTimeS: video.currentTime, audioNowS: context.currentTime, nextFreeS: this.nextFreeS, rate: video.playbackRate });
    if (at === null) return false;
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(gain);
    source.start(at);
    this.nextFreeS = at + buffer.duration;
    this.scheduled.push({ source, buffer, startS: at, endS: this.nextFreeS, frameMs });
    return true;
  }

  /**
   * The picture's clock moved against the sound's since these frames were placed (the player
   * jumped into its buffer at the start of a range, the video stalled, latency chasing at 1.2x):
   * the frames not yet started are placed again, after the one sounding now.
   */
  private replan(context: AudioContext, baseMs: number): void {
    const gain = this.gain;
    if (!gain) return;
    const now = context.currentTime;
    const waiting = this.scheduled.filter((s) => s.startS > now);
    this.scheduled = this.scheduled.filter((s) => s.startS <= now);
    this.nextFreeS = this.scheduled.at(-1)?.endS ?? 0;
    for (const s of waiting) {
      s.source.stop();
      if (!this.schedule(context, gain, s.buffer, s.frameMs, baseMs)) this.dropped++;
    }
  }

  /** The picture plays (not paused, not waiting for data). */
  private moving(): boolean {
    const video = this.options.video;
    return !video.paused && video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA;
  }

  private pause(): void {
    if (this.stateNow !== 'playing' && this.stateNow !== 'connecting') return;
    this.closeSocket();
    this.silence();
  }

  private resume(): void {
    if ((this.stateNow === 'playing' || this.stateNow === 'connecting') && !this.socket) this.open();
  }

  /** Stops what is scheduled and not yet heard (pause, mute). */
  private silence(): void {
    for (const s of this.scheduled.splice(0)) {
      try {
        s.source.stop();
      } catch {
        // never started or already ended
      }
    }
    this.nextFreeS = 0;
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'muted');
  }

  private setState(state: G711AudioState, reason?: string): void {
    this.stateNow = state;
    this.options.onState?.(state, reason);
  }
}

/** `ws(s)://` URL of the audio feed beside a stream, carrying the video URL's query (sign=...). */
export function audioFeedUrl(location: Pick<Location, 'protocol' | 'host'>, path: string, query = ''): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws-audio/${path}${query ? (query.startsWith('?') ? query : `?${query}`) : ''}`;
}

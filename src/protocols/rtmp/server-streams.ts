/**
 * The message streams of one server-side RTMP connection: createStream, publish, play and
 * deleteStream, each tied to the hub (a Publisher or a Subscription per stream id).
 *
 * Spec: RTMP 1.0 §7.2.2 (NetStream commands: play §7.2.2.1, publish §7.2.2.6,
 * deleteStream §7.2.2.3) and their onStatus replies.
 */
import { queryRecord, type AdmissionRequest } from '../../core/admission';
import { GatewayError, ParseError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/log';
import type { Publisher } from '../../core/source';
import type { HevcMode } from '../../formats/flv/bodies';
import type { Registry, Subscription } from '../../hub/registry';
import { streamAddress, type NameWithQuery, type StreamAddress } from './address';
import { ChunkMemo } from './chunk-writer';
import { decodeData, metadataOf, onStatusMessage, resultMessage, statusInfo, type Command } from './command';
import type { ActivityRole, RtmpConnection } from './connection';
import type { RtmpMessage } from './message';
import { RtmpPlaySink, type PlayOutput } from './play';
import { RtmpIngest } from './publish';

export interface ServerStreamsOptions {
  readonly registry: Registry;
  readonly hevcMode: HevcMode;
  readonly chunkSize: number;
  /** Most message streams (createStream) per connection. */
  readonly maxStreams: number;
  /** TCP_NODELAY once a player plays. */
  readonly playNoDelay: boolean;
}

/** What the streams need from their session. */
export interface StreamsHost {
  readonly connection: RtmpConnection;
  readonly log: Logger;
  readonly remote: string | undefined;
  readonly isClosed: boolean;
  close(reason: string, graceful?: boolean): void;
  /** Handles a message held while a publish waited for admission, as if it came just now. */
  dispatch(message: RtmpMessage): void;
}

/** Bytes a publisher may send before its admission check answers (a few seconds of a camera). */
const MAX_HELD_BYTES = 4 * 1024 * 1024;

/** The onStatus code of a refused publish: Unauthorized for admission refusals. */
function publishRefusalCode(err: unknown): string {
  const code = err instanceof GatewayError ? err.code : '';
  return code === 'UNAUTHORIZED' || code === 'FORBIDDEN' ? 'NetStream.Publish.Unauthorized' : 'NetStream.Publish.BadName';
}

interface PlaySlot {
  readonly address: StreamAddress;
  readonly abort: AbortController;
  subscription?: Subscription;
  /** Set when the client stopped it (deleteStream, close): the sink must not end the session. */
  stopped: boolean;
}

interface StreamSlot {
  /** A publish waiting for admission: the slot is taken meanwhile. */
  admitting?: boolean;
  publish?: { address: StreamAddress; publisher: Publisher; ingest: RtmpIngest };
  play?: PlaySlot;
}

export class ServerStreams {
  private readonly streams = new Map<number, StreamSlot>();
  private nextStreamId = 1;
  /** Slots that publish: `role()` is asked on every read, and a publisher's answer needs no walk over the slots. */
  private publishing = 0;
  /** Messages that arrived while a publish waits for admission. */
  private held: { messages: RtmpMessage[]; bytes: number } | undefined;

  constructor(
    private readonly host: StreamsHost,
    private readonly options: ServerStreamsOptions,
  ) {}

  role(): ActivityRole {
    if (this.publishing > 0) return 'publishing';
    let role: ActivityRole = 'other';
    for (const slot of this.streams.values()) {
      if (slot.publish) return 'publishing';
      if (slot.play?.subscription) role = 'playing';
    }
    return role;
  }

  /** The first stream that publishes or plays, for the session's snapshot. */
  current(): { role: 'publisher' | 'player'; address: StreamAddress } | undefined {
    for (const slot of this.streams.values()) {
      if (slot.publish) return { role: 'publisher', address: slot.publish.address };
      if (slot.play) return { role: 'player', address: slot.play.address };
    }
    return undefined;
  }

  createStream(cmd: Command): void {
    if (this.streams.size >= this.options.maxStreams) throw new ParseError('RTMP: too many streams on one connection');
    const id = this.nextStreamId++;
    this.streams.set(id, {});
    this.host.connection.send([resultMessage(cmd.transactionId, id)]);
  }

  /** Audio, video or aggregate on a publishing stream; false when the stream does not publish. */
  media(message: RtmpMessage): boolean {
    const publish = this.streams.get(message.streamId)?.publish;
    if (!publish) return false;
    publish.ingest.media(message.typeId, message.timestamp, message.body);
    return true;
  }

  data(message: RtmpMessage): void {
    const publish = this.streams.get(message.streamId)?.publish;
    if (!publish) return;
    let metadata: ReturnType<typeof metadataOf>;
    try {
      metadata = metadataOf(decodeData(message));
    } catch (err) {
      // Metadata is optional: a malformed data message costs itself, not the publish.
      if (!(err instanceof ParseError)) throw err;
      this.host.log.debug({ err: err.message }, 'ignoring a malformed data message');
      return;
    }
    if (metadata) publish.ingest.metadata(metadata);
  }

  /**
   * Keeps a message that arrived while a publish waits for admission; true if it was taken.
   * Clients may send media (and deleteStream) without waiting for Publish.Start: it runs, in
   * order, once admission answered.
   */
  hold(message: RtmpMessage): boolean {
    const held = this.held;
    if (!held) return false;
    held.bytes += message.body.length;
    if (held.bytes > MAX_HELD_BYTES) throw new ParseError(`RTMP: more than ${MAX_HELD_BYTES} bytes sent before the publish was admitted`);
    held.messages.push(message);
    return true;
  }

  publish(app: NameWithQuery, streamId: number, cmd: Command): void {
    const name = typeof cmd.args[0] === 'string' ? cmd.args[0] : '';
    const slot = this.slot(streamId);
    const address = streamAddress(app, name);
    if (!address) return this.refusePublish(streamId, name, `invalid stream name "${app.name}/${name.slice(0, 100)}"`);
    if (slot.publish || slot.play || slot.admitting) return this.refusePublish(streamId, name, 'this stream is already in use on the connection');
    const held = { messages: [] as RtmpMessage[], bytes: 0 };
    this.held = held;
    slot.admitting = true;
    const done = (): void => {
      slot.admitting = false;
      if (this.held === held) this.held = undefined;
    };
    this.options.registry.admission.admit(this.admissionRequest('publish', address)).then(
      () => {
        done();
        if (this.host.isClosed) return;
        this.startPublish(streamId, slot, address, cmd);
        this.release(held.messages);
      },
      (err: unknown) => {
        done();
        if (!this.host.isClosed) this.refusePublish(streamId, name, errorMessage(err), publishRefusalCode(err));
      },
    );
  }

  private startPublish(streamId: number, slot: StreamSlot, address: StreamAddress, cmd: Command): void {
    let publisher: Publisher;
    try {
      publisher = this.options.registry.publish(address.path, {
        kind: 'rtmp',
        remote: this.host.remote,
        close: (reason) => this.host.close(reason, true),
      });
    } catch (err) {
      if (err instanceof GatewayError) return this.refusePublish(streamId, address.stream, err.message);
      throw err;
    }
    const ingest = new RtmpIngest(publisher, this.host.log.child({ stream: address.path }));
    slot.publish = { address, publisher, ingest };
    this.publishing++;
    this.host.log.info({ path: address.path, type: cmd.args[1], query: address.query !== '' }, 'publishing');
    const start = statusInfo('status', 'NetStream.Publish.Start', `${address.path} is now published.`, { details: address.path });
    this.host.connection.send([onStatusMessage(streamId, start)]);
  }

  /** Runs the held messages in their order; one of them may start another wait. */
  private release(messages: readonly RtmpMessage[]): void {
    try {
      for (let i = 0; i < messages.length; i++) {
        if (this.host.isClosed) return;
        if (this.held) {
          this.held.messages.push(...messages.slice(i));
          return;
        }
        this.host.dispatch(messages[i]!);
      }
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.host.log.warn({ err: err.message }, 'closing: bad RTMP input');
      this.host.close(`bad input: ${err.message}`);
    }
  }

  private refusePublish(streamId: number, name: string, description: string, code = 'NetStream.Publish.BadName'): void {
    this.host.log.warn({ name, reason: description }, 'publish refused');
    this.host.connection.send([onStatusMessage(streamId, statusInfo('error', code, description))]);
    this.host.close(`publish refused: ${description}`, true);
  }

  private admissionRequest(action: 'publish' | 'play', address: StreamAddress): AdmissionRequest {
    return { action, path: address.path, protocol: 'rtmp', ...(this.host.remote ? { remote: this.host.remote } : {}), query: queryRecord(address.query) };
  }

  play(app: NameWithQuery, streamId: number, cmd: Command): void {
    const name = typeof cmd.args[0] === 'string' ? cmd.args[0] : '';
    const slot = this.slot(streamId);
    const address = streamAddress(app, name);
    if (!address || slot.publish || slot.play || slot.admitting) {
      this.refusePlay(streamId, address ? 'this stream is already in use on the connection' : `invalid stream name "${name.slice(0, 100)}"`);
      return;
    }
    const play: PlaySlot = { address, abort: new AbortController(), stopped: false };
    slot.play = play;
    const registry = this.options.registry;
    const sink = new RtmpPlaySink(this.playOutput(play), {
      streamId,
      path: address.path,
      hevcMode: this.options.hevcMode,
      memo: (info) => info.feed(ChunkMemo.FEED),
    });
    this.host.log.debug({ path: address.path, query: address.query !== '' }, 'play requested');
    let admitted = false;
    registry.admission
      .admit(this.admissionRequest('play', address))
      .then(() => {
        admitted = true;
        return registry.subscribe(address.path, sink, { signal: play.abort.signal });
      })
      .then(
        (subscription) => {
          if (slot.play !== play || this.host.isClosed) subscription.close('viewer left');
          else {
            play.subscription = subscription;
            this.host.connection.setNoDelay(this.options.playNoDelay);
          }
        },
        (err: unknown) => {
          if (slot.play !== play || this.host.isClosed) return;
          slot.play = undefined;
          this.refusePlay(streamId, errorMessage(err), admitted ? 'NetStream.Play.StreamNotFound' : 'NetStream.Play.Failed');
        },
      );
  }

  deleteStream(streamId: number): void {
    const slot = this.streams.get(streamId);
    if (!slot) return;
    if (slot.publish) {
      const path = slot.publish.address.path;
      this.host.connection.send([onStatusMessage(streamId, statusInfo('status', 'NetStream.Unpublish.Success', `${path} is now unpublished.`))]);
    }
    this.stopSlot(slot, 'stream deleted by the client');
    this.streams.delete(streamId);
  }

  /** Ends every publish and play (the connection closed). */
  stopAll(reason: string): void {
    for (const slot of this.streams.values()) this.stopSlot(slot, reason);
    this.streams.clear();
  }

  private slot(streamId: number): StreamSlot {
    let slot = this.streams.get(streamId);
    if (!slot) {
      // Some clients publish/play on a stream id they never created: accept it, within bounds.
      if (this.streams.size >= this.options.maxStreams) throw new ParseError('RTMP: too many streams on one connection');
      slot = {};
      this.streams.set(streamId, slot);
    }
    return slot;
  }

  /** Play refused: StreamNotFound from the hub, Play.Failed from admission. */
  private refusePlay(streamId: number, description: string, code = 'NetStream.Play.StreamNotFound'): void {
    this.host.log.info({ reason: description }, 'play refused');
    this.host.connection.send([onStatusMessage(streamId, statusInfo('error', code, description))]);
    this.host.close(`play refused: ${description}`, true);
  }

  private stopSlot(slot: StreamSlot, reason: string): void {
    if (slot.publish) {
      this.host.log.info({ path: slot.publish.address.path, frames: slot.publish.ingest.frames, reason }, 'publish ended');
      slot.publish.publisher.end(reason);
      slot.publish = undefined;
      this.publishing--;
    }
    if (slot.play) {
      const play = slot.play;
      slot.play = undefined;
      play.stopped = true;
      play.abort.abort();
      play.subscription?.close(reason);
    }
  }

  private playOutput(play: { stopped: boolean }): PlayOutput {
    const connection = this.host.connection;
    return {
      chunkSize: this.options.chunkSize,
      remote: this.host.remote,
      send: (messages) => connection.send(messages),
      write: (buffers) => connection.write(buffers),
      holdWritesThisTick: () => connection.holdWritesThisTick(),
      pendingBytes: () => connection.pendingBytes,
      bytesOut: () => connection.bytesOut,
      ended: (reason) => {
        // The hub ended the stream or dropped this viewer: the connection has no purpose left.
        if (!play.stopped) this.host.close(reason, true);
      },
    };
  }
}

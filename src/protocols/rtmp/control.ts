/**
 * Protocol control messages (types 1-6) and user control events (type 4).
 *
 * Spec: RTMP 1.0 §5.4 (Set Chunk Size, Abort, Acknowledgement, Window Acknowledgement Size,
 * Set Peer Bandwidth) and §6.2 / §7.1.7 (User Control Message events).
 */
import { ParseError, parseAssert } from '../../core/errors';
import { ChunkStream, MessageType, type OutgoingMessage, type RtmpMessage } from './message';

export const UserControlEvent = {
  streamBegin: 0,
  streamEof: 1,
  streamDry: 2,
  setBufferLength: 3,
  streamIsRecorded: 4,
  pingRequest: 6,
  pingResponse: 7,
} as const;

/** Spec: RTMP 1.0 §5.4.5: 0 hard, 1 soft, 2 dynamic. */
export type PeerBandwidthLimit = 0 | 1 | 2;

export type ControlMessage =
  | { kind: 'setChunkSize'; size: number }
  | { kind: 'abort'; chunkStreamId: number }
  | { kind: 'acknowledgement'; sequence: number }
  | { kind: 'windowAckSize'; size: number }
  | { kind: 'setPeerBandwidth'; size: number; limit: number }
  | { kind: 'streamBegin' | 'streamEof' | 'streamDry' | 'streamIsRecorded'; streamId: number }
  | { kind: 'setBufferLength'; streamId: number; bufferMs: number }
  | { kind: 'pingRequest' | 'pingResponse'; timestamp: number }
  | { kind: 'userControl'; event: number };

function control(typeId: number, body: Buffer): OutgoingMessage {
  return { chunkStreamId: ChunkStream.control, typeId, streamId: 0, timestamp: 0, body: [body] };
}

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

export function setChunkSizeMessage(size: number): OutgoingMessage {
  return control(MessageType.setChunkSize, u32(size & 0x7fffffff));
}

export function acknowledgementMessage(sequence: number): OutgoingMessage {
  return control(MessageType.acknowledgement, u32(sequence % 2 ** 32));
}

export function windowAckSizeMessage(size: number): OutgoingMessage {
  return control(MessageType.windowAckSize, u32(size));
}

export function setPeerBandwidthMessage(size: number, limit: PeerBandwidthLimit): OutgoingMessage {
  const body = Buffer.allocUnsafe(5);
  body.writeUInt32BE(size >>> 0, 0);
  body[4] = limit;
  return control(MessageType.setPeerBandwidth, body);
}

function userControl(event: number, ...values: number[]): OutgoingMessage {
  const body = Buffer.allocUnsafe(2 + 4 * values.length);
  body.writeUInt16BE(event, 0);
  values.forEach((v, i) => body.writeUInt32BE(v >>> 0, 2 + 4 * i));
  return control(MessageType.userControl, body);
}

export function streamBeginMessage(streamId: number): OutgoingMessage {
  return userControl(UserControlEvent.streamBegin, streamId);
}

export function streamEofMessage(streamId: number): OutgoingMessage {
  return userControl(UserControlEvent.streamEof, streamId);
}

export function streamIsRecordedMessage(streamId: number): OutgoingMessage {
  return userControl(UserControlEvent.streamIsRecorded, streamId);
}

export function pingRequestMessage(timestamp: number): OutgoingMessage {
  return userControl(UserControlEvent.pingRequest, timestamp);
}

export function pingResponseMessage(timestamp: number): OutgoingMessage {
  return userControl(UserControlEvent.pingResponse, timestamp);
}

export function setBufferLengthMessage(streamId: number, bufferMs: number): OutgoingMessage {
  return userControl(UserControlEvent.setBufferLength, streamId, bufferMs);
}

/** True for message types 1-6 (decode them with {@link decodeControl}). */
export function isControlMessage(typeId: number): boolean {
  return typeId >= MessageType.setChunkSize && typeId <= MessageType.setPeerBandwidth;
}

function need(body: Buffer, bytes: number, what: string): void {
  parseAssert(body.length >= bytes, `RTMP: ${what} body of ${body.length} bytes, want ${bytes}`);
}

/** Decodes a protocol control or user control message. Throws ParseError on a short body. */
export function decodeControl(message: Pick<RtmpMessage, 'typeId' | 'body'>): ControlMessage {
  const { body } = message;
  switch (message.typeId) {
    case MessageType.setChunkSize:
      need(body, 4, 'Set Chunk Size');
      return { kind: 'setChunkSize', size: body.readUInt32BE(0) & 0x7fffffff };
    case MessageType.abort:
      need(body, 4, 'Abort');
      return { kind: 'abort', chunkStreamId: body.readUInt32BE(0) };
    case MessageType.acknowledgement:
      need(body, 4, 'Acknowledgement');
      return { kind: 'acknowledgement', sequence: body.readUInt32BE(0) };
    case MessageType.windowAckSize:
      need(body, 4, 'Window Acknowledgement Size');
      return { kind: 'windowAckSize', size: body.readUInt32BE(0) };
    case MessageType.setPeerBandwidth:
      need(body, 5, 'Set Peer Bandwidth');
      return { kind: 'setPeerBandwidth', size: body.readUInt32BE(0), limit: body[4]! };
    case MessageType.userControl:
      return decodeUserControl(body);
    default:
      throw new ParseError(`RTMP: message type ${message.typeId} is not a control message`);
  }
}

function decodeUserControl(body: Buffer): ControlMessage {
  need(body, 2, 'User Control');
  const event = body.readUInt16BE(0);
  switch (event) {
    case UserControlEvent.streamBegin:
    case UserControlEvent.streamEof:
    case UserControlEvent.streamDry:
    case UserControlEvent.streamIsRecorded: {
      need(body, 6, 'User Control stream event');
      const kinds = ['streamBegin', 'streamEof', 'streamDry', '', 'streamIsRecorded'] as const;
      const kind = kinds[event] as 'streamBegin' | 'streamEof' | 'streamDry' | 'streamIsRecorded';
      return { kind, streamId: body.readUInt32BE(2) };
    }
    case UserControlEvent.setBufferLength:
      need(body, 10, 'Set Buffer Length');
      return { kind: 'setBufferLength', streamId: body.readUInt32BE(2), bufferMs: body.readUInt32BE(6) };
    case UserControlEvent.pingRequest:
    case UserControlEvent.pingResponse:
      need(body, 6, 'Ping');
      return {
        kind: event === UserControlEvent.pingRequest ? 'pingRequest' : 'pingResponse',
        timestamp: body.readUInt32BE(2),
      };
    default:
      return { kind: 'userControl', event };
  }
}

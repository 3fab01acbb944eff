/**
 * AMF0 command messages (type 20, and type 17 whose AMF0 body follows one format byte) and
 * data messages (type 18 / 15): decoding, and the replies a server sends.
 *
 * Spec: RTMP 1.0 §7.1.1 (command message), §7.1.2 (data message), §7.2 (NetConnection and
 * NetStream commands and their onStatus replies).
 */
import { ParseError, parseAssert } from '../../core/errors';
import { amf0Properties, decodeAmf0, encodeAmf0, type Amf0Value } from '../../formats/amf0/amf0';
import { ChunkStream, MessageType, type OutgoingMessage, type RtmpMessage } from './message';

export interface Command {
  readonly name: string;
  /** 0 when the sender expects no reply. */
  readonly transactionId: number;
  readonly commandObject: Amf0Value;
  readonly args: readonly Amf0Value[];
}

export interface DataMessage {
  readonly name: string;
  readonly args: readonly Amf0Value[];
}

/** An AMF3 command/data message starts with a format byte (0: the rest is AMF0). */
function amf0Body(message: Pick<RtmpMessage, 'typeId' | 'body'>): Buffer {
  if (message.typeId !== MessageType.commandAmf3 && message.typeId !== MessageType.dataAmf3) return message.body;
  parseAssert(message.body.length >= 1 && message.body[0] === 0, 'RTMP: AMF3-encoded command or data');
  return message.body.subarray(1);
}

/** Decodes a command message (types 20 and 17). Throws ParseError on a malformed body. */
export function decodeCommand(message: Pick<RtmpMessage, 'typeId' | 'body'>): Command {
  const values = decodeAmf0(amf0Body(message));
  const [name, transactionId, commandObject, ...args] = values;
  parseAssert(typeof name === 'string', 'RTMP: command name is not a string');
  const tid = typeof transactionId === 'number' && Number.isFinite(transactionId) ? transactionId : 0;
  return { name, transactionId: tid, commandObject: commandObject ?? null, args };
}

/** Decodes a data message (types 18 and 15): a handler name, then its arguments. */
export function decodeData(message: Pick<RtmpMessage, 'typeId' | 'body'>): DataMessage {
  const [name, ...args] = decodeAmf0(amf0Body(message));
  if (typeof name !== 'string') throw new ParseError('RTMP: data message name is not a string');
  return { name, args };
}

/**
 * The metadata object of `@setDataFrame onMetaData {...}` or `onMetaData {...}`, or
 * undefined for other data messages.
 */
export function metadataOf(data: DataMessage): Record<string, Amf0Value> | undefined {
  let args = data.args;
  let name = data.name;
  if (name === '@setDataFrame' && typeof args[0] === 'string') {
    name = args[0];
    args = args.slice(1);
  }
  if (name !== 'onMetaData') return undefined;
  return amf0Properties(args[0]);
}

export function commandMessage(streamId: number, name: string, transactionId: number, commandObject: Amf0Value, ...args: Amf0Value[]): OutgoingMessage {
  return {
    chunkStreamId: ChunkStream.command,
    typeId: MessageType.commandAmf0,
    streamId,
    timestamp: 0,
    body: [encodeAmf0(name, transactionId, commandObject, ...args)],
  };
}

export function dataMessage(streamId: number, name: string, ...args: Amf0Value[]): OutgoingMessage {
  return {
    chunkStreamId: ChunkStream.data,
    typeId: MessageType.dataAmf0,
    streamId,
    timestamp: 0,
    body: [encodeAmf0(name, ...args)],
  };
}

export interface StatusInfo {
  [key: string]: Amf0Value;
  level: 'status' | 'error' | 'warning';
  code: string;
  description: string;
}

export function statusInfo(level: StatusInfo['level'], code: string, description: string, extra: Record<string, Amf0Value> = {}): StatusInfo {
  return { level, code, description, ...extra };
}

/** `onStatus` on a message stream. Spec: RTMP 1.0 §7.2.2 */
export function onStatusMessage(streamId: number, info: StatusInfo): OutgoingMessage {
  return commandMessage(streamId, 'onStatus', 0, null, info);
}

/** The `_result` of connect. Spec: RTMP 1.0 §7.2.1.1 */
export function connectResultMessage(transactionId: number, objectEncoding: number, extraProperties: Record<string, Amf0Value> = {}): OutgoingMessage {
  return commandMessage(
    0,
    '_result',
    transactionId,
    { fmsVer: 'FMS/3,0,1,123', capabilities: 31, mode: 1, ...extraProperties },
    statusInfo('status', 'NetConnection.Connect.Success', 'Connection succeeded.', { objectEncoding }),
  );
}

/** `_result` with a single value (createStream's stream id, or undefined). */
export function resultMessage(transactionId: number, value: Amf0Value): OutgoingMessage {
  return commandMessage(0, '_result', transactionId, null, value);
}

export function errorMessage(transactionId: number, info: StatusInfo): OutgoingMessage {
  return commandMessage(0, '_error', transactionId, null, info);
}

/** `|RtmpSampleAccess` (audio, video): lets Flash players read the samples. */
export function sampleAccessMessage(streamId: number): OutgoingMessage {
  return dataMessage(streamId, '|RtmpSampleAccess', true, true);
}

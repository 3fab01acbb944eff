import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors';
import type { RtpMap } from '../formats/sdp/sdp';
import type { RtpReceiverStats } from '../../rtp/net/rtp-receiver';
import { STREAM_MODES, type StreamMode } from '../core/gb28181';
import { errorResponses, pathParams } from './schemas';

export interface OpenRtpRequest {
  /** Hub path the media is published on (`app/stream`). */
  path: string;
  transport: StreamMode;
  /** Expected SSRC; packets of another SSRC are dropped (unless ssrcCheck is off). */
  ssrc?: number;
  ssrcCheck?: boolean;
  /** tcp-active: where to connect. */
  peer?: { host: string; port: number };
  /** Elementary-stream payload types (H.264/H.265/AAC/G.711 over RTP, as an SDP would map them). */
  payloadTypes?: Record<string, RtpMap>;
  /** Write every RTP payload to a file under storage.dir/rtp-dumps for debugging. */
  dump?: boolean;
}

export interface RtpServerInfo extends RtpReceiverStats {
  path: string;
  openedAt: number;
  dumpPath?: string;
  /** Several workers: the one whose port it is (app/cluster). */
  worker?: number;
}

export interface RtpApiDeps {
  rtp: {
    open(request: OpenRtpRequest): Promise<{ path: string; port: number; transport: string }>;
    close(path: string, reason?: string): boolean | Promise<boolean>;
    list(): RtpServerInfo[] | Promise<RtpServerInfo[]>;
  };
}

const rtpMapSchema = {
  type: 'object',
  properties: {
    encoding: { type: 'string', enum: ['H264', 'H265', 'MPEG4-GENERIC', 'MP4A-LATM', 'PCMA', 'PCMU', 'h264', 'h265', 'mpeg4-generic', 'mp4a-latm', 'pcma', 'pcmu'] },
    clockRate: { type: 'integer', minimum: 1000, maximum: 192000 },
    channels: { type: 'integer', minimum: 1, maximum: 8 },
    fmtp: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 } },
  },
  required: ['encoding', 'clockRate'],
  additionalProperties: false,
} as const;

const receiverSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    path: { type: 'string' },
    transport: { type: 'string' },
    port: { type: 'integer' },
    peer: { type: 'string', description: 'the bound sender, once a packet arrived' },
    openedAt: { type: 'integer' },
    firstPacketAt: { type: 'integer' },
    lastPacketAt: { type: 'integer' },
    ssrcExpected: { type: 'integer' },
    ssrcSeen: { type: 'integer' },
    packets: { type: 'integer' },
    bytes: { type: 'integer' },
    lost: { type: 'integer' },
    reordered: { type: 'integer' },
    ssrcMismatch: { type: 'integer', description: 'packets dropped for another SSRC' },
    parseErrors: { type: 'integer', description: 'PS/TS demux errors' },
    framesOut: { type: 'integer' },
    container: { type: ['string', 'null'] },
    dumpPath: { type: 'string' },
    worker: { type: 'integer', description: 'several workers: the one whose port it is' },
  },
} as const;

/**
 * /api/rtp: open an RTP receiver for a stream path and read its counters (what a user reads
 * when "there is no picture"). Used by GB28181 platforms that do their own signalling.
 */
export async function rtpApi(app: FastifyInstance, deps: RtpApiDeps): Promise<void> {
  app.post<{ Body: OpenRtpRequest & { stream: string } }>(
    '/api/rtp/open',
    {
      schema: {
        tags: ['rtp'],
        summary: 'Open an RTP receiver (UDP, TCP passive, TCP active) publishing to a stream path',
        body: {
          type: 'object',
          properties: {
            stream: { type: 'string', description: 'app/stream, e.g. rtp/34020000001320000001_34020000001310000001', maxLength: 140 },
            transport: { type: 'string', enum: [...STREAM_MODES], default: 'udp' },
            ssrc: { type: 'integer', minimum: 0, maximum: 4294967295 },
            ssrcCheck: { type: 'boolean' },
            peer: { type: 'object', properties: { host: { type: 'string', maxLength: 64 }, port: { type: 'integer', minimum: 1, maximum: 65535 } }, required: ['host', 'port'] },
            payloadTypes: {
              type: 'object',
              description: 'elementary-stream payload types, e.g. {"96": {"encoding": "H264", "clockRate": 90000}}',
              propertyNames: { pattern: '^(?:[0-9]|[1-9][0-9]|1[01][0-9]|12[0-7])$' },
              additionalProperties: rtpMapSchema,
            },
            dump: { type: 'boolean', description: 'write every RTP payload to a file under storage.dir/rtp-dumps' },
          },
          required: ['stream'],
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { stream: { type: 'string' }, port: { type: 'integer' }, transport: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { stream, ...rest } = request.body;
      const opened = await deps.rtp.open({ ...rest, path: stream });
      return { stream: opened.path, port: opened.port, transport: opened.transport };
    },
  );

  app.get(
    '/api/rtp',
    {
      schema: {
        tags: ['rtp'],
        summary: 'Every open RTP receiver with its peer, SSRC and counters',
        response: { 200: { type: 'object', properties: { receivers: { type: 'array', items: receiverSchema } } } },
      },
    },
    async () => ({ receivers: await deps.rtp.list() }),
  );

  app.delete<{ Params: { app: string; stream: string } }>(
    '/api/rtp/:app/:stream',
    {
      schema: {
        tags: ['rtp'],
        summary: 'Close the RTP receiver of a stream',
        params: pathParams,
        response: { 200: { type: 'object', properties: { closed: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request) => {
      const path = `${request.params.app}/${request.params.stream}`;
      if (!(await deps.rtp.close(path))) throw new GatewayError('STREAM_NOT_FOUND', `no RTP receiver is open for ${path}`);
      return { closed: path };
    },
  );
}

/** One m= section to write: payload type, rtpmap and fmtp of a single format. */
export interface SdpMediaOut {
  readonly type: 'video' | 'audio';
  readonly protocol: string;
  readonly payloadType: number;
  readonly rtpmap: string;
  readonly fmtp?: string;
  readonly control: string;
}

/** Writes a session description (the reverse of parseSdp for what a server offers). Spec: RFC 4566 §5. */
export function writeSdp(session: { readonly address: string; readonly name: string; readonly media: readonly SdpMediaOut[] }): string {
  const ip = session.address.includes(':') ? 'IP6' : 'IP4';
  const lines = ['v=0', `o=- 0 0 IN ${ip} ${session.address}`, `s=${session.name.replace(/[\r\n]/g, '')}`, `c=IN ${ip} ${session.address}`, 't=0 0', 'a=control:*'];
  for (const m of session.media) {
    lines.push(`m=${m.type} 0 ${m.protocol} ${m.payloadType}`, `a=rtpmap:${m.payloadType} ${m.rtpmap}`);
    if (m.fmtp) lines.push(`a=fmtp:${m.payloadType} ${m.fmtp}`);
    lines.push(`a=control:${m.control}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

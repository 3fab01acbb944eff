import iconv from 'iconv-lite';

/** SIP messages as GB28181 devices send them, shared by the parser, framing and fuzz tests. */
export const REGISTER = [
  'REGISTER sip:34020000002000000001@3402000000 SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK1839394531',
  'From: <sip:34020000001320000001@3402000000>;tag=1025836476',
  'To: <sip:34020000001320000001@3402000000>',
  'Call-ID: 1386525458',
  'CSeq: 1 REGISTER',
  'Contact: <sip:34020000001320000001@192.168.1.64:5060>',
  'Max-Forwards: 70',
  'User-Agent: IP Camera',
  'Expires: 3600',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

export const KEEPALIVE_XML =
  '<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>43</SN>\r\n<DeviceID>34020000001320000001</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n';

/** A Catalog answer with Chinese names in GB2312 and Hikvision's unescaped & and < in Address. */
export const CATALOG_XML =
  '<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>17</SN>\r\n<DeviceID>34020000001320000001</DeviceID>\r\n<SumNum>2</SumNum>\r\n<DeviceList Num="2">\r\n' +
  '<Item>\r\n<DeviceID>34020000001310000001</DeviceID>\r\n<Name>东门摄像机</Name>\r\n<Manufacturer>Hikvision</Manufacturer>\r\n<Address>A&B 楼 <3层></Address>\r\n<ParentID>34020000001320000001</ParentID>\r\n<Status>ON</Status>\r\n<Longitude>116.3971</Longitude>\r\n<Latitude>39.9165</Latitude>\r\n<Info>\r\n<PTZType>1</PTZType>\r\n</Info>\r\n</Item>\r\n' +
  '<Item>\r\n<DeviceID>340200</DeviceID>\r\n<Name>行政区划</Name>\r\n</Item>\r\n' +
  '</DeviceList>\r\n</Response>\r\n';

export function message(method: string, body: Buffer, from = '34020000001320000001'): Buffer {
  const head = [
    `${method} sip:34020000002000000001@3402000000 SIP/2.0`,
    'Via: SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK42',
    `From: <sip:${from}@3402000000>;tag=99`,
    'To: <sip:34020000002000000001@3402000000>',
    'Call-ID: 77@192.168.1.64',
    `CSeq: 20 ${method}`,
    'Content-Type: Application/MANSCDP+xml',
    'Max-Forwards: 70',
    `Content-Length: ${body.length}`,
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export const gb2312 = (text: string): Buffer => iconv.encode(text, 'gb2312');

/** MANSCDP answers of the device simulator, written as a camera writes them (CRLF, GB2312 declaration). */
export interface SimChannel {
  id: string;
  name: string;
  parentId?: string;
  civilCode?: string;
  address?: string;
  status?: 'ON' | 'OFF';
  /** Raw XML to insert as is (e.g. a Hikvision-style unescaped `&`). */
  rawFields?: string;
}

/** `count` channels of device `deviceId` with Chinese names (GB2312 when encoded). */
export function makeChannels(deviceId: string, count: number): SimChannel[] {
  const prefix = deviceId.slice(0, 10);
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}1310${String(i).padStart(6, '0')}`,
    name: `摄像机${i + 1}号 东门`,
    parentId: deviceId,
    civilCode: prefix.slice(0, 6),
    address: `大楼 ${i + 1} 层`,
    status: i % 7 === 3 ? 'OFF' : 'ON',
  }));
}

function itemXml(channel: SimChannel): string {
  return [
    '<Item>',
    `<DeviceID>${channel.id}</DeviceID>`,
    `<Name>${channel.name}</Name>`,
    '<Manufacturer>Simulator</Manufacturer>',
    '<Model>SIM-IPC</Model>',
    '<Owner>Owner</Owner>',
    `<CivilCode>${channel.civilCode ?? ''}</CivilCode>`,
    `<Address>${channel.address ?? ''}</Address>`,
    '<Parental>0</Parental>',
    `<ParentID>${channel.parentId ?? ''}</ParentID>`,
    '<SafetyWay>0</SafetyWay>',
    '<RegisterWay>1</RegisterWay>',
    '<Secrecy>0</Secrecy>',
    `<Status>${channel.status ?? 'ON'}</Status>`,
    '<Longitude>116.397128</Longitude>',
    '<Latitude>39.916527</Latitude>',
    '<Info><PTZType>1</PTZType></Info>',
    channel.rawFields ?? '',
    '</Item>',
  ].join('\r\n');
}

/** The Catalog answer split into messages of `chunk` items, each with SumNum = total. */
export function catalogBodies(deviceId: string, sn: string, channels: readonly SimChannel[], chunk: number): string[] {
  const out: string[] = [];
  if (channels.length === 0) {
    out.push(
      `<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n<SumNum>0</SumNum>\r\n<DeviceList Num="0">\r\n</DeviceList>\r\n</Response>\r\n`,
    );
    return out;
  }
  for (let i = 0; i < channels.length; i += chunk) {
    const part = channels.slice(i, i + chunk);
    out.push(
      `<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n` +
        `<SumNum>${channels.length}</SumNum>\r\n<DeviceList Num="${part.length}">\r\n${part.map(itemXml).join('\r\n')}\r\n</DeviceList>\r\n</Response>\r\n`,
    );
  }
  return out;
}

/** Answers to DeviceInfo, ConfigDownload (BasicParam) and DeviceStatus. */
export function manscdpResponse(
  cmdType: string,
  deviceId: string,
  sn: string,
  options: { heartbeatInterval?: number; heartbeatCount?: number; expires?: number; channels?: readonly SimChannel[] },
): string | undefined {
  const head = `<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>${cmdType}</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n`;
  switch (cmdType) {
    case 'DeviceInfo':
      return `${head}<Result>OK</Result>\r\n<DeviceName>模拟摄像机</DeviceName>\r\n<Manufacturer>Simulator</Manufacturer>\r\n<Model>SIM-NVR</Model>\r\n<Firmware>V1.0.0</Firmware>\r\n<Channel>${options.channels?.length ?? 0}</Channel>\r\n</Response>\r\n`;
    case 'ConfigDownload':
      return `${head}<Result>OK</Result>\r\n<BasicParam>\r\n<Name>模拟摄像机</Name>\r\n<Expiration>${options.expires ?? 3600}</Expiration>\r\n<HeartBeatInterval>${options.heartbeatInterval ?? 60}</HeartBeatInterval>\r\n<HeartBeatCount>${options.heartbeatCount ?? 3}</HeartBeatCount>\r\n</BasicParam>\r\n</Response>\r\n`;
    case 'DeviceStatus':
      return `${head}<Result>OK</Result>\r\n<Online>ONLINE</Online>\r\n<Status>OK</Status>\r\n<Encode>ON</Encode>\r\n<Record>OFF</Record>\r\n</Response>\r\n`;
    default:
      return undefined;
  }
}

/** A recording on the simulated device (RecordInfo items). */
export interface SimRecord {
  startMs: number;
  endMs: number;
  type?: 'time' | 'alarm' | 'manual';
  name?: string;
}

function localGbTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * The RecordInfo answer for `channelId` in messages of `chunk` items, each with SumNum = the
 * total; the items are sent newest first (as some NVRs do), so the gateway has to sort them.
 */
export function recordInfoBodies(channelId: string, sn: string, records: readonly SimRecord[], chunk: number): string[] {
  const sorted = [...records].sort((a, b) => b.startMs - a.startMs);
  const head = `<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>RecordInfo</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${channelId}</DeviceID>\r\n<Name>模拟通道</Name>\r\n<SumNum>${records.length}</SumNum>\r\n`;
  const out: string[] = [];
  for (let i = 0; i < Math.max(1, sorted.length); i += chunk) {
    const part = sorted.slice(i, i + chunk);
    const items = part.map((r, k) =>
      [
        '<Item>',
        `<DeviceID>${channelId}</DeviceID>`,
        `<Name>${r.name ?? `录像${i + k + 1}`}</Name>`,
        `<FilePath>/sd/${r.startMs}.ps</FilePath>`,
        '<Address>SD</Address>',
        `<StartTime>${localGbTime(r.startMs)}</StartTime>`,
        `<EndTime>${localGbTime(r.endMs)}</EndTime>`,
        '<Secrecy>0</Secrecy>',
        `<Type>${r.type ?? 'time'}</Type>`,
        `<FileSize>${Math.round((r.endMs - r.startMs) / 1000) * 50_000}</FileSize>`,
        '</Item>',
      ].join('\r\n'),
    );
    out.push(`${head}<RecordList Num="${part.length}">\r\n${items.join('\r\n')}\r\n</RecordList>\r\n</Response>\r\n`);
  }
  return out;
}

/** A DeviceControl / DeviceConfig answer. */
export function controlResponse(cmdType: string, deviceId: string, sn: string, result: 'OK' | 'ERROR'): string {
  return `<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>${cmdType}</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n<Result>${result}</Result>\r\n</Response>\r\n`;
}

export function presetQueryResponse(channelId: string, sn: string, presets: readonly { id: number; name: string }[]): string {
  const items = presets.map((p) => `<Item>\r\n<PresetID>${p.id}</PresetID>\r\n<PresetName>${p.name}</PresetName>\r\n</Item>`).join('\r\n');
  return `<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>PresetQuery</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${channelId}</DeviceID>\r\n<PresetList Num="${presets.length}">\r\n${items}\r\n</PresetList>\r\n</Response>\r\n`;
}

/** MediaStatus 121: the device reached the end of the recording it plays back. */
export function mediaStatusEnd(deviceId: string, sn: number): string {
  return `<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>MediaStatus</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n<NotifyType>121</NotifyType>\r\n</Notify>\r\n`;
}

/** An Alarm notification (GB/T 28181-2016 §A.2.5.5). */
export function alarmNotify(channelId: string, sn: number, alarm: { priority: number; method: number; type?: number; timeMs: number; description?: string }): string {
  return (
    `<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Alarm</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${channelId}</DeviceID>\r\n` +
    `<AlarmPriority>${alarm.priority}</AlarmPriority>\r\n<AlarmMethod>${alarm.method}</AlarmMethod>\r\n<AlarmTime>${localGbTime(alarm.timeMs)}</AlarmTime>\r\n` +
    `<AlarmDescription>${alarm.description ?? '移动侦测报警'}</AlarmDescription>\r\n<Longitude>116.397128</Longitude>\r\n<Latitude>39.916527</Latitude>\r\n` +
    (alarm.type !== undefined ? `<Info>\r\n<AlarmType>${alarm.type}</AlarmType>\r\n</Info>\r\n` : '') +
    `</Notify>\r\n`
  );
}

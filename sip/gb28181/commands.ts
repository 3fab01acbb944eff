import { encodeBody, type DeviceCharset } from './charset';
import { catalogNodeKind, isCatalogNodeId } from './ids';
import { attributeOf, childOf, listOf, numberOf, textOf, type ManscdpMessage, type ManscdpRoot, type XmlObject, type XmlValue } from './manscdp';
import type { GbCatalogEvent, GbCatalogItem } from '../../src/core/gb28181';

/** Field values of an outgoing MANSCDP body: text, numbers, or nested elements (in order). */
export interface XmlFields {
  [name: string]: string | number | XmlFields;
}

const MAX_FIELD_CHARS = 1024;

/** XML text content: escaped, without the control characters XML 1.0 cannot carry. */
export function escapeXml(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function fieldsXml(fields: XmlFields): string {
  let out = '';
  for (const [name, value] of Object.entries(fields)) {
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw new TypeError(`bad XML element name ${name}`);
    out += typeof value === 'object' ? `<${name}>\r\n${fieldsXml(value)}</${name}>\r\n` : `<${name}>${escapeXml(String(value))}</${name}>\r\n`;
  }
  return out;
}

/**
 * A MANSCDP body, encoded in the device's charset and declared as such.
 * Spec: GB/T 28181-2016 §A.2.1
 */
export function buildManscdp(root: ManscdpRoot, cmdType: string, sn: number, deviceId: string, extra: XmlFields, charset: DeviceCharset): Buffer {
  const label = charset === 'UTF-8' ? 'UTF-8' : charset;
  const xml = `<?xml version="1.0" encoding="${label}"?>\r\n<${root}>\r\n${fieldsXml({ CmdType: cmdType, SN: sn, DeviceID: deviceId, ...extra })}</${root}>\r\n`;
  return encodeBody(xml, charset);
}

export const MANSCDP_CONTENT_TYPE = 'Application/MANSCDP+xml';

function str(value: XmlValue | undefined): string | undefined {
  const text = textOf(value)?.trim();
  return text ? text.slice(0, MAX_FIELD_CHARS) : undefined;
}

function int(value: XmlValue | undefined, min: number, max: number): number | undefined {
  const n = numberOf(value);
  return n !== undefined && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

function coordinate(value: XmlValue | undefined, limit: number): number | undefined {
  const n = numberOf(value);
  return n !== undefined && Math.abs(n) <= limit ? n : undefined;
}

function isOnlineStatus(status: string | undefined): boolean {
  return !!status && /^(?:ON|ONLINE|OK)$/i.test(status);
}

/** Plain JSON of an element for the `raw` column (text values, nested objects, arrays). */
function rawOf(item: XmlObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) out[key] = typeof value === 'string' ? value.slice(0, MAX_FIELD_CHARS) : value;
  return out;
}

/**
 * The items of a Catalog answer or NOTIFY; items without a usable DeviceID are skipped.
 * Spec: GB/T 28181-2016 §A.2.6.4
 */
export function catalogItems(message: ManscdpMessage): (GbCatalogItem & { event?: GbCatalogEvent })[] {
  const out: (GbCatalogItem & { event?: GbCatalogEvent })[] = [];
  for (const item of listOf(childOf(message.body.DeviceList, 'Item'))) {
    const id = str(item.DeviceID);
    if (!id || !isCatalogNodeId(id)) continue;
    const status = str(item.Status);
    const event = str(item.Event)?.toUpperCase();
    out.push({
      id,
      kind: catalogNodeKind(id),
      name: str(item.Name),
      parentId: str(item.ParentID),
      civilCode: str(item.CivilCode),
      businessGroupId: str(item.BusinessGroupID),
      manufacturer: str(item.Manufacturer),
      model: str(item.Model),
      owner: str(item.Owner),
      address: str(item.Address),
      ipAddress: str(item.IPAddress),
      port: int(item.Port, 0, 65535),
      status,
      online: isOnlineStatus(status),
      ptzType: int(childOf(item.Info, 'PTZType'), 0, 99),
      longitude: coordinate(item.Longitude, 180),
      latitude: coordinate(item.Latitude, 90),
      raw: rawOf(item),
      ...(event && /^(?:ADD|DEL|UPDATE|ON|OFF|VLOST|DEFECT)$/.test(event) ? { event: event as GbCatalogEvent } : {}),
    });
  }
  return out;
}

/** SumNum of a Catalog answer; undefined when the device left it out. */
export function sumNumOf(message: ManscdpMessage): number | undefined {
  return int(message.body.SumNum, 0, 1_000_000);
}

/** DeviceList Num (items in this message). */
export function listNumOf(message: ManscdpMessage): number | undefined {
  const num = attributeOf(message.body.DeviceList, 'Num');
  return num !== undefined && /^\d{1,7}$/.test(num) ? Number(num) : undefined;
}

export interface DeviceInfo {
  name?: string;
  manufacturer?: string;
  model?: string;
  firmware?: string;
  channels?: number;
}

/** Spec: GB/T 28181-2016 §A.2.6.5 */
export function deviceInfoOf(message: ManscdpMessage): DeviceInfo {
  const b = message.body;
  return { name: str(b.DeviceName), manufacturer: str(b.Manufacturer), model: str(b.Model), firmware: str(b.Firmware), channels: int(b.Channel, 0, 1_000_000) };
}

export interface BasicParam {
  heartbeatInterval?: number;
  heartbeatCount?: number;
  expiration?: number;
  name?: string;
}

/** ConfigDownload BasicParam: the device's own heartbeat settings (invalid values dropped). */
export function basicParamOf(message: ManscdpMessage): BasicParam {
  const p = message.body.BasicParam;
  return {
    heartbeatInterval: int(childOf(p, 'HeartBeatInterval'), 1, 3600),
    heartbeatCount: int(childOf(p, 'HeartBeatCount'), 1, 100),
    expiration: int(childOf(p, 'Expiration'), 1, 86_400 * 7),
    name: str(childOf(p, 'Name')),
  };
}

export interface DeviceStatus {
  online: boolean;
  status?: string;
  encode?: string;
  record?: string;
  deviceTime?: string;
}

/** Spec: GB/T 28181-2016 §A.2.6.3 */
export function deviceStatusOf(message: ManscdpMessage): DeviceStatus {
  const b = message.body;
  const online = str(b.Online);
  return { online: online !== undefined && /^ONLINE$/i.test(online), status: str(b.Status), encode: str(b.Encode), record: str(b.Record), deviceTime: str(b.DeviceTime) };
}

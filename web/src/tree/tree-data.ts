import type { ChannelDto, DeviceDto, Page, ProxyDto, StreamDto } from '../../../src/api/dto';
import type { AppContext } from '../app';

/** One node of the device tree: a device, a civil-code or business-group node, a channel, a proxy or a stream. */
export interface TreeNode {
  id: string;
  label: string;
  kind: 'device' | 'civil' | 'group' | 'org' | 'channel' | 'proxy' | 'stream' | 'section';
  online: boolean;
  /** The hub path it plays on (channels, proxies, streams). */
  path?: string;
  /** A line under the name: codec and size, the proxy state, the channel id. */
  detail?: string;
  deviceId?: string;
  children: TreeNode[];
}

async function orEmpty<T>(promise: Promise<T>, empty: T): Promise<T> {
  try {
    return await promise;
  } catch {
    return empty;
  }
}

/** Every page of a paged list (the API gives at most 1000 a page). */
async function allPages<T>(ctx: Pick<AppContext, 'api'>, url: string): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; page <= 50; page++) {
    const sep = url.includes('?') ? '&' : '?';
    const result = await ctx.api<Page<T>>('GET', `${url}${sep}page=${page}&count=1000`);
    out.push(...result.items);
    if (out.length >= result.total || result.items.length === 0) break;
  }
  return out;
}

/**
 * A device's catalog as a tree: each entry hangs under its ParentID (the last part of a
 * `a/b/c` path that names a node of this catalog), else its business group, else its civil
 * code, else the device. Spec: GB/T 28181-2016 §9.5.3, Annex J (civil code and virtual organisation trees).
 */
export function catalogTree(device: DeviceDto, channels: ChannelDto[]): TreeNode {
  const root: TreeNode = { id: device.id, label: device.name || device.id, kind: 'device', online: device.online, detail: device.id, deviceId: device.id, children: [] };
  const nodes = new Map<string, TreeNode>();
  for (const c of channels) {
    if (c.gone) continue;
    const kind = c.kind === 'device' ? 'channel' : c.kind;
    nodes.set(c.id, {
      id: c.id,
      label: c.name || c.id,
      kind,
      online: c.online,
      detail: c.id,
      deviceId: device.id,
      children: [],
      ...(kind === 'channel' ? { path: c.stream } : {}),
    });
  }
  const parentOf = (c: ChannelDto): TreeNode => {
    const candidates = [...(c.parentId?.split('/').reverse() ?? []), c.businessGroupId, c.civilCode];
    for (const id of candidates) {
      if (id && id !== c.id && nodes.has(id)) return nodes.get(id)!;
    }
    return root;
  };
  for (const c of channels) {
    const node = nodes.get(c.id);
    if (node) parentOf(c).children.push(node);
  }
  // A cycle in a device's catalog (A under B under A) would lose both: hang what is unreachable on the device.
  const reachable = new Set<TreeNode>();
  const walk = (n: TreeNode): void => {
    if (reachable.has(n)) return;
    reachable.add(n);
    n.children.forEach(walk);
  };
  walk(root);
  for (const node of nodes.values()) if (!reachable.has(node)) root.children.push(node);
  return root;
}

export interface TreeData {
  devices: TreeNode[];
  proxies: TreeNode[];
  streams: TreeNode[];
}

/** Reads devices with their catalogs, proxies and live streams; a part the gateway does not run (SIP off) is empty. */
export async function loadTree(ctx: Pick<AppContext, 'api'>): Promise<TreeData> {
  const [devices, proxies, streams] = await Promise.all([
    orEmpty(allPages<DeviceDto>(ctx, '/api/devices'), []),
    orEmpty(
      ctx.api<{ proxies: ProxyDto[] }>('GET', '/api/proxies').then((r) => r.proxies),
      [],
    ),
    ctx.api<{ streams: StreamDto[] }>('GET', '/api/streams').then((r) => r.streams),
  ]);
  const catalogs = await Promise.all(devices.map((d) => orEmpty(allPages<ChannelDto>(ctx, `/api/devices/${encodeURIComponent(d.id)}/channels`), [])));
  const live = new Map(streams.map((s) => [s.path, s]));
  const describe = (s: StreamDto | undefined): string | undefined =>
    s?.tracks.map((t) => ('width' in t && t.width ? `${t.codec} ${t.width}x${t.height}` : t.codec)).join(', ') || undefined;
  const covered = new Set<string>();
  const deviceNodes = devices.map((d, i) => {
    const tree = catalogTree(d, catalogs[i] ?? []);
    const mark = (n: TreeNode): void => {
      if (n.path) {
        covered.add(n.path);
        const detail = describe(live.get(n.path));
        if (detail) n.detail = `${n.detail ?? ''} · ${detail}`;
      }
      n.children.forEach(mark);
    };
    mark(tree);
    return tree;
  });
  const proxyNodes = proxies.map((p): TreeNode => {
    covered.add(p.path);
    const error = p.status.lastError ? ` · ${p.status.lastError.message}` : '';
    return {
      id: `proxy:${p.id}`,
      label: p.path,
      kind: 'proxy',
      online: p.status.state === 'playing' || p.onDemand,
      path: p.path,
      detail: `${p.url} · ${p.status.state}${error}`,
      children: [],
    };
  });
  const streamNodes = streams
    .filter((s) => !covered.has(s.path))
    .map((s): TreeNode => ({ id: `stream:${s.path}`, label: s.path, kind: 'stream', online: true, path: s.path, ...(describe(s) ? { detail: describe(s)! } : {}), children: [] }));
  return { devices: deviceNodes, proxies: proxyNodes, streams: streamNodes };
}

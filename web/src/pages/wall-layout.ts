import type { WallLayout } from '../../../src/api/dto';

export const LAYOUTS: readonly WallLayout[] = ['1', '2x2', '3x3', '4x4', '1+5'];

export function isLayout(value: string | null): value is WallLayout {
  return value !== null && (LAYOUTS as readonly string[]).includes(value);
}

export function tileCount(layout: WallLayout): number {
  return { '1': 1, '2x2': 4, '3x3': 9, '4x4': 16, '1+5': 6 }[layout];
}

/** Grid columns (and rows: every layout is square) of a layout; `1+5` is 3x3 with the first tile over 2x2. */
export function gridSize(layout: WallLayout): number {
  return { '1': 1, '2x2': 2, '3x3': 3, '4x4': 4, '1+5': 3 }[layout];
}

/** What `/wall?layout=3x3&paths=app/a,app/b,,app/c` asks for (an empty item is an empty tile). */
export function parseWallQuery(search: string): { layout: WallLayout; tiles: (string | null)[] } | undefined {
  const params = new URLSearchParams(search);
  const paths = params.get('paths');
  const layoutParam = params.get('layout');
  if (!paths && !layoutParam) return undefined;
  const tiles = (paths ?? '').split(',').map((p) => (/^[A-Za-z0-9_.-]{1,64}\/[A-Za-z0-9_.-]{1,64}$/.test(p.trim()) ? p.trim() : null));
  const layout = isLayout(layoutParam) ? layoutParam : smallestFor(tiles.length);
  return { layout, tiles: tiles.slice(0, tileCount(layout)) };
}

export function smallestFor(n: number): WallLayout {
  return n <= 1 ? '1' : n <= 4 ? '2x2' : n <= 9 ? '3x3' : '4x4';
}

export function wallQuery(layout: WallLayout, tiles: (string | null)[]): string {
  let last = tiles.length;
  while (last > 0 && !tiles[last - 1]) last--;
  const paths = tiles
    .slice(0, last)
    .map((t) => t ?? '')
    .join(',');
  return `?layout=${encodeURIComponent(layout)}${paths ? `&paths=${paths}` : ''}`;
}

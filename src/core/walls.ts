/** Monitoring-wall layouts and the saved-wall record: one declaration for storage/, src/api and web/. */
export const WALL_LAYOUTS = ['1', '2x2', '3x3', '4x4', '1+5'] as const;
export type WallLayout = (typeof WALL_LAYOUTS)[number];

/** How many tiles a layout has (`1+5`: one big tile and five small ones around it). */
export function tilesOf(layout: WallLayout): number {
  return { '1': 1, '2x2': 4, '3x3': 9, '4x4': 16, '1+5': 6 }[layout];
}

/** A saved wall: its layout and what each tile plays (`null`: an empty tile). */
export interface WallRecord {
  id: number;
  name: string;
  layout: WallLayout;
  tiles: (string | null)[];
  createdAt: number;
  updatedAt: number;
}

export interface WallInput {
  name: string;
  layout: WallLayout;
  tiles: (string | null)[];
}

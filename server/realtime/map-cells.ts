import type { BBox } from '../../protocol/schemas';

/**
 * A map viewer joins the rooms of the grid cells its view covers, so a count change is emitted to a
 * handful of cell rooms instead of being matched against every viewer's bounding box. Several grid
 * levels let a zoomed-out map join a few coarse cells rather than thousands of fine ones; a venue's
 * change goes to its cell on every level (a socket in several of those rooms still gets one message,
 * as socket.io de-duplicates rooms within one emit).
 */
export const CELL_LEVELS = [0.02, 0.2, 2, 20] as const; // degrees per cell side
export const MAX_CELLS_PER_VIEW = 64;

function cellIndex(value: number, size: number): number {
  return Math.floor(value / size);
}

/**
 * Latitude 90 and longitude 180 fold into the last cell rather than a cell of their own. Every
 * index (a venue's and both ends of a view's range) goes through this, so a view whose edge sits on
 * 180 or 90 still covers the cell a venue on that edge is in.
 */
function latIndex(lat: number, size: number): number {
  return Math.min(cellIndex(lat, size), cellIndex(90 - 1e-9, size));
}

function lngIndex(lng: number, size: number): number {
  return Math.min(cellIndex(lng, size), cellIndex(180 - 1e-9, size));
}

export function cellId(level: number, lat: number, lng: number): string {
  const size = CELL_LEVELS[level] ?? CELL_LEVELS[CELL_LEVELS.length - 1]!;
  return `${level}:${lngIndex(lng, size)}:${latIndex(lat, size)}`;
}

/** Every cell (all levels) that contains this point: the rooms a venue's count goes to. */
export function cellsOfPoint(lat: number, lng: number): string[] {
  return CELL_LEVELS.map((_, level) => cellId(level, lat, lng));
}

/** A bbox crossing the antimeridian (west > east) is two longitude ranges. */
export function lngRanges([west, , east]: BBox): [number, number][] {
  return west <= east
    ? [[west, east]]
    : [
        [west, 180],
        [-180, east],
      ];
}

function cellsAtLevel(bbox: BBox, level: number, cap: number): string[] | null {
  const size = CELL_LEVELS[level]!;
  const [, south, , north] = bbox;
  const y0 = latIndex(south, size);
  const y1 = latIndex(north, size);
  const out: string[] = [];
  for (const [w, e] of lngRanges(bbox)) {
    const x0 = lngIndex(w, size);
    const x1 = lngIndex(e, size);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) + out.length > cap) return null;
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push(`${level}:${x}:${y}`);
  }
  return out;
}

/** The finest level whose cells cover the view in at most MAX_CELLS_PER_VIEW rooms. */
export function cellsForView(bbox: BBox): string[] {
  for (let level = 0; level < CELL_LEVELS.length; level++) {
    const cells = cellsAtLevel(bbox, level, MAX_CELLS_PER_VIEW);
    if (cells) return cells;
  }
  // The whole world at the coarsest level is 18 × 9 cells: always allowed.
  return cellsAtLevel(bbox, CELL_LEVELS.length - 1, Number.MAX_SAFE_INTEGER) ?? [];
}

export function inBBox(bbox: BBox, lat: number, lng: number): boolean {
  const [, south, , north] = bbox;
  if (lat < south || lat > north) return false;
  return lngRanges(bbox).some(([w, e]) => lng >= w && lng <= e);
}

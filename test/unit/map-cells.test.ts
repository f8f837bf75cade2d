import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cellsForView, cellsOfPoint, inBBox, MAX_CELLS_PER_VIEW } from '../../server/realtime/map-cells';
import type { BBox } from '../../protocol/schemas';

const lat = fc.double({ min: -90, max: 90, noNaN: true });
const lng = fc.double({ min: -180, max: 180, noNaN: true });
const bbox = fc.tuple(lng, lat, lng, lat).map(([w, s, e, n]): BBox => [w, Math.min(s, n), e, Math.max(s, n)]);

describe('map cells', () => {
  it('a venue inside a view shares at least one room with it (antimeridian and poles included)', () => {
    fc.assert(
      fc.property(bbox, lat, lng, (view, vLat, vLng) => {
        fc.pre(inBBox(view, vLat, vLng));
        const viewCells = new Set(cellsForView(view));
        expect(cellsOfPoint(vLat, vLng).some((c) => viewCells.has(c))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a view that crosses the antimeridian still finds a venue on either side', () => {
    const view: BBox = [179.9, -1, -179.9, 1];
    const cells = new Set(cellsForView(view));
    expect(cellsOfPoint(0, 179.95).some((c) => cells.has(c))).toBe(true);
    expect(cellsOfPoint(0, -179.95).some((c) => cells.has(c))).toBe(true);
    expect(inBBox(view, 0, 0)).toBe(false);
  });

  it('never asks a socket to join more than the cap (whole world included)', () => {
    fc.assert(
      fc.property(bbox, (view) => {
        expect(cellsForView(view).length).toBeLessThanOrEqual(Math.max(MAX_CELLS_PER_VIEW, 18 * 9 * 2));
      }),
    );
    expect(cellsForView([-74.02, 40.7, -73.99, 40.72]).length).toBeLessThanOrEqual(MAX_CELLS_PER_VIEW);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cellsForView, cellsOfPoint, inBBox, MAX_CELLS_PER_VIEW } from '../../server/realtime/map-cells';
import type { BBox } from '../../protocol/schemas';

// The edges (poles, antimeridian, cell boundaries) are where folding goes wrong, so they are drawn
// as often as a random double rather than left to chance (the [180, 0, 0, 0] case took 513 runs).
const lat = fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), fc.constantFrom(-90, 0, 20, 90));
const lng = fc.oneof(fc.double({ min: -180, max: 180, noNaN: true }), fc.constantFrom(-180, 0, 20, 180));
const bbox = fc.tuple(lng, lat, lng, lat).map(([w, s, e, n]): BBox => [w, Math.min(s, n), e, Math.max(s, n)]);

/** Whether a venue at (vLat, vLng) sends its counts to at least one room the view joins. */
function sharesARoom(view: BBox, vLat: number, vLng: number): boolean {
  const viewCells = new Set(cellsForView(view));
  return cellsOfPoint(vLat, vLng).some((c) => viewCells.has(c));
}

describe('map cells', () => {
  it('a venue inside a view shares at least one room with it (antimeridian and poles included)', () => {
    fc.assert(
      fc.property(bbox, lat, lng, (view, vLat, vLng) => {
        fc.pre(inBBox(view, vLat, vLng));
        expect(sharesARoom(view, vLat, vLng)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a view whose edge lies on longitude 180 or latitude 90 covers a venue on that edge', () => {
    // fast-check found [180, 0, 0, 0]: it crosses the antimeridian, so one of its two ranges is the
    // single line 180, whose first index was not folded like the venue's, and that range came out empty.
    const cases: [BBox, number, number][] = [
      [[180, 0, 0, 0], 0, 180],
      [[170, 0, 180, 0], 0, 180],
      [[0, 90, 1, 90], 90, 0.5],
      [[180, 90, -180, 90], 90, 180],
    ];
    for (const [view, vLat, vLng] of cases) {
      expect(inBBox(view, vLat, vLng)).toBe(true);
      expect(sharesARoom(view, vLat, vLng)).toBe(true);
    }
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

import { describe, expect, it } from 'vitest';
import { rankByDistance } from '../../server/venues/nearest-venues';
import { CELL_DEGREES, CELL_HALF_DIAGONAL_M, couldWin, roundToCell } from '../../server/venues/venue-answers';

/** A cell's details are loaded only for the candidates `couldWin` keeps: no caller in the cell may miss one of its nearest. */
describe('the candidates a cell loads details for', () => {
  it('holds every caller’s nearest `limit` venues, wherever in the cell the caller stands, at any latitude', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (const lat0 of [0.2, 40.7128, 59.9, 69.6]) {
      for (let round = 0; round < 20; round++) {
        const centre = { lat: roundToCell(lat0 + random() * 0.01), lng: roundToCell(-74 + random() * 0.01) };
        const perDegLng = 111_320 * Math.cos((centre.lat * Math.PI) / 180);
        const venues = Array.from({ length: 300 }, (_, i) => {
          const r = 1_500 * Math.sqrt(random());
          const t = random() * 2 * Math.PI;
          return { id: `v${i}`, latitude: centre.lat + (r * Math.cos(t)) / 111_320, longitude: centre.lng + (r * Math.sin(t)) / perDegLng };
        });
        const radius = 1_000;
        const limit = 1 + Math.floor(random() * 50);
        const kept = new Set(couldWin(rankByDistance(centre, venues, radius + CELL_HALF_DIAGONAL_M, 200), limit).map((v) => v.id));
        for (let k = 0; k < 30; k++) {
          // Any point that rounds to this cell (corners included).
          const caller = { lat: centre.lat + (random() - 0.5) * CELL_DEGREES, lng: centre.lng + (random() - 0.5) * CELL_DEGREES };
          for (const v of rankByDistance(caller, venues, radius, limit)) expect(kept.has(v.id), `${v.id} at ${lat0}`).toBe(true);
        }
      }
    }
  });
});

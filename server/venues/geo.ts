import { EARTH_RADIUS_M } from '../geo/distance';

const rad = (deg: number) => (deg * Math.PI) / 180;
const deg = (r: number) => (r * 180) / Math.PI;

export interface GeoBox {
  minLat: number;
  maxLat: number;
  /** One range, or two when the circle crosses the antimeridian; [-180, 180] when it covers a pole. */
  lngRanges: [number, number][];
}

/**
 * The lat/lng rectangle(s) that contain every point within `radiusM` of the centre, so an index on
 * (latitude, longitude) can prune before distances are computed. The longitude half-width is the
 * tangent-meridian bound asin(sin r / cos lat) (Matuschek), not r / cos lat, which is too narrow away
 * from the equator. A circle reaching a pole spans every longitude; one crossing ±180° is split in two.
 */
export function boundingBox(lat: number, lng: number, radiusM: number): GeoBox {
  // A hair wider than exact so floating-point rounding never drops a venue on the rim; the exact
  // distance filter afterwards decides.
  const r = (radiusM * (1 + 1e-9) + 0.01) / EARTH_RADIUS_M;
  const latR = rad(lat);
  const minLatR = latR - r;
  const maxLatR = latR + r;
  if (minLatR <= -Math.PI / 2 || maxLatR >= Math.PI / 2 || r >= Math.PI / 2) {
    return { minLat: Math.max(-90, deg(minLatR)), maxLat: Math.min(90, deg(maxLatR)), lngRanges: [[-180, 180]] };
  }
  const dLng = deg(Math.asin(Math.sin(r) / Math.cos(latR)));
  const minLng = lng - dLng;
  const maxLng = lng + dLng;
  const box = { minLat: deg(minLatR), maxLat: deg(maxLatR) };
  if (dLng >= 180) return { ...box, lngRanges: [[-180, 180]] };
  if (minLng < -180)
    return {
      ...box,
      lngRanges: [
        [minLng + 360, 180],
        [-180, maxLng],
      ],
    };
  if (maxLng > 180)
    return {
      ...box,
      lngRanges: [
        [minLng, 180],
        [-180, maxLng - 360],
      ],
    };
  return { ...box, lngRanges: [[minLng, maxLng]] };
}

/**
 * What the server tells a page when it serves it, injected as a JSON script tag (read before any
 * network call, so the page never races a config fetch). Built by server/http/routes/web-routes.ts.
 */
export interface MapPageConfig {
  /** Leaflet tile URL template (MAP_TILE_URL); empty disables tiles altogether. */
  tileUrl: string;
  center: { lat: number; lng: number };
  zoom: number;
}

export interface TabletPageConfig {
  /** Dev mode: sign in with just an email (POST /api/auth/dev-login). */
  devMode: boolean;
}

export const PAGE_CONFIG_ELEMENT_ID = 'treatme-config';

export function readPageConfig<T>(): T {
  const el = document.getElementById(PAGE_CONFIG_ELEMENT_ID);
  if (!el?.textContent) throw new Error('page config missing: serve this page through the TreatMe server');
  return JSON.parse(el.textContent) as T;
}

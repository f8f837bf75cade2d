import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type Response } from 'express';
import { PAGE_CONFIG_ELEMENT_ID, type MapPageConfig, type TabletPageConfig } from '../../../web/shared/page-config';

const WEB_ROOT = fileURLToPath(new URL('../../../web', import.meta.url));
const DIST = path.join(WEB_ROOT, 'dist');
export const WEB_ASSETS_PATH = '/web/dist';

/**
 * Scripts only from ourselves (the bundles), no inline script runs (the page config is inert JSON),
 * sockets and REST to our own origin; map tiles may come from wherever MAP_TILE_URL points.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https: http:",
  "connect-src 'self' ws: wss:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** JSON inside a <script> element: `<` escaped so no value can close the element. */
function configTag(config: unknown): string {
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<script id="${PAGE_CONFIG_ELEMENT_ID}" type="application/json">${json}</script>`;
}

/**
 * The web map and the bartender tablet: HTML shells with their config injected, plus the esbuild
 * bundles from web/dist (scripts/build-web.mjs). Pages are read once; bundles are served with
 * revalidation so a rebuilt bundle is picked up without a restart.
 */
export interface WebPageSettings {
  tileUrl: string;
  center: { lat: number; lng: number };
  /** Serves the bundles' source maps. */
  devMode: boolean;
}

export function webRoutes(settings: WebPageSettings): Router {
  const router = Router();

  const mapConfig: MapPageConfig = { tileUrl: settings.tileUrl, center: settings.center, zoom: 14 };
  const tabletConfig: TabletPageConfig = { devMode: settings.devMode };

  const page = (name: 'map' | 'tablet', pageConfig: unknown) => {
    let html: string | undefined;
    return (_req: unknown, res: Response) => {
      res.set('Content-Security-Policy', CSP);
      res.set('Cache-Control', 'no-cache');
      if (!existsSync(path.join(DIST, `${name}.js`))) {
        res
          .status(503)
          .type('text/plain')
          .send(`The ${name} page is not built. Run \`node scripts/build-web.mjs\` (npm install does it too).\n`);
        return;
      }
      html ??= readFileSync(path.join(WEB_ROOT, name, 'index.html'), 'utf8').replace('<!--treatme-config-->', configTag(pageConfig));
      res.type('html').send(html);
    };
  };

  router.get('/map', page('map', mapConfig));
  router.get('/tablet', page('tablet', tabletConfig));
  // Source maps hand out the bundles' original source: only to developers.
  if (!settings.devMode) router.use(WEB_ASSETS_PATH, (req, _res, next) => next(req.path.endsWith('.map') ? 'router' : undefined));
  router.use(WEB_ASSETS_PATH, express.static(DIST, { index: false, fallthrough: true, maxAge: 0 }));
  return router;
}

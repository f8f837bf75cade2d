#!/usr/bin/env node
// Bundles the two web front ends (web/map, web/tablet) into web/dist with esbuild, and copies Leaflet's
// stylesheet and images beside them, so the server serves everything itself: no CDN at run time, and
// nothing here touches the network. Runs from `postinstall` (after prisma generate), from `npm test`
// when web/dist is missing, and in the Dockerfile's build stage.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');
const dist = path.join(web, 'dist');
const leafletDist = path.join(root, 'node_modules/leaflet/dist');
const apps = ['map', 'tablet'];

// A production-only install (`npm ci --omit=dev`, the Docker runtime stage) has neither esbuild nor
// leaflet: the bundles were built in the build stage and are copied in, so there is nothing to do.
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('build-web: esbuild is not installed (production install); skipping the web bundles');
  process.exit(0);
}
if (!existsSync(leafletDist) || apps.some((a) => !existsSync(path.join(web, a, 'main.ts')))) {
  console.log('build-web: web sources or leaflet are missing; skipping the web bundles');
  process.exit(0);
}

const watch = process.argv.includes('--watch');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const options = {
  absWorkingDir: root,
  entryPoints: Object.fromEntries(apps.map((a) => [a, path.join(web, a, 'main.ts')])),
  outdir: dist,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  minify: !watch,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
  tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: false } },
};

// Leaflet's markers here are our own HTML (divIcon), but its stylesheet and the default icon images
// are shipped too, so any plain L.marker still renders offline.
cpSync(path.join(leafletDist, 'leaflet.css'), path.join(dist, 'leaflet.css'));
cpSync(path.join(leafletDist, 'images'), path.join(dist, 'images'), { recursive: true });
for (const a of apps) cpSync(path.join(web, a, `${a}.css`), path.join(dist, `${a}.css`));
// Styles both pages share, linked before each page's own.
cpSync(path.join(web, 'shared', 'connection-status.css'), path.join(dist, 'connection-status.css'));

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('build-web: watching web/map and web/tablet (css is copied once; rerun for css edits)');
} else {
  const started = Date.now();
  await esbuild.build(options);
  console.log(`build-web: web/dist/{${apps.join(',')}}.js built in ${Date.now() - started} ms`);
}

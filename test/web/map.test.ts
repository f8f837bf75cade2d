import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { emitOk } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues } from '../helpers/users';
import { launchChromium, newPage, screenshot } from './browser';

let ts: TestServer;
let browser: Browser;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  browser = await launchChromium();
  // No tile server is reachable here (nor in CI): point tiles at a closed local port so they fail fast.
  ts = await startTestServer({ MAP_TILE_URL: 'http://127.0.0.1:9/{z}/{x}/{y}.png' }, { label: 'web_map' });
  ({ page, errors: pageErrors } = await newPage(browser));
});
afterAll(async () => {
  await browser?.close();
  await ts?.close();
});

const markerCount = (p: Page, venueId: string) =>
  p.$eval(`.venue-marker[data-venue-id="${venueId}"]`, (el) => Number((el as HTMLElement).dataset.count));

async function waitForCount(p: Page, venueId: string, count: number, timeout: number): Promise<void> {
  await p.waitForFunction(
    ([id, n]) => document.querySelector<HTMLElement>(`.venue-marker[data-venue-id="${id}"]`)?.dataset.count === String(n),
    [venueId, count] as const,
    { timeout, polling: 25 },
  );
}

describe('the web map', () => {
  it('draws every demo venue with its count on a plain background when no tiles load', async () => {
    await page.goto(`${ts.url}/map`);
    await page.waitForSelector('#conn[data-state="live"]');
    const venues = await demoVenues(ts.server.ctx);
    await page.waitForFunction((n) => document.querySelectorAll('.venue-marker').length === n, venues.length);
    await page.waitForSelector('#tiles-note:not([hidden])');
    expect(await page.textContent('#summary')).toMatch(/12 venues in view · 0 people out right now/);
    expect(pageErrors).toEqual([]);
  });

  it('shows a check-in made by another client within a second', async () => {
    const venue = (await demoVenues(ts.server.ctx)).find((v) => v.slug === 'the-velvet-lounge')!;
    const before = await markerCount(page, venue.id);
    const guests = await Promise.all([createUser(ts.server.ctx, 'Map Guest A'), createUser(ts.server.ctx, 'Map Guest B')]);
    for (const [i, guest] of guests.entries()) {
      const phone = await ts.connect(guest.token);
      await emitOk(phone, 'presence:checkin', { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
      const acked = Date.now();
      await waitForCount(page, venue.id, before + i + 1, 1_000);
      expect(Date.now() - acked).toBeLessThan(1_000);
    }
    expect(await page.$eval(`.venue-marker[data-venue-id="${venue.id}"]`, (el) => (el as HTMLElement).dataset.level)).toBe('quiet');
    await page.waitForFunction(() => /2 people out/.test(document.getElementById('summary')?.textContent ?? ''));
    await screenshot(page, 'web-map');
  });

  it('says when the connection drops, and catches up on what changed once it is back', async () => {
    const venue = (await demoVenues(ts.server.ctx)).find((v) => v.slug === 'neon-tiger')!;
    const guest = await createUser(ts.server.ctx, 'Late Guest');
    const phone = await ts.connect(guest.token);
    // What the page heard, so a failure says whether the snapshot came and what it carried.
    await page.evaluate(() => {
      const w = window as unknown as { heard: unknown[]; treatmeMap: { socket: { onAny(f: (ev: string, p: unknown) => void): void } } };
      w.heard = [];
      w.treatmeMap.socket.onAny((ev, p) => w.heard.push([Math.round(performance.now()), ev, p]));
    });
    // Drop the map's transport the way a flaky venue wifi does; socket.io-client retries on its own.
    await page.evaluate(() => {
      const w = window as unknown as { treatmeMap: { socket: { io: { engine: { close(): void } } } } };
      w.treatmeMap.socket.io.engine.close();
    });
    await page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 2_000 });
    await emitOk(phone, 'presence:checkin', { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    await page.waitForSelector('#conn[data-state="back"]', { timeout: 10_000 });
    await waitForCount(page, venue.id, 1, 5_000).catch(async (err: Error) => {
      const state = await page.evaluate((id) => {
        const w = window as unknown as { heard: unknown[]; treatmeMap: { counts: { get(id: string): unknown } } };
        return {
          heard: w.heard,
          book: w.treatmeMap.counts.get(id),
          marker: document.querySelector(`.venue-marker[data-venue-id="${id}"]`)?.outerHTML,
        };
      }, venue.id);
      throw new Error(`${err.message}\npage errors: ${JSON.stringify(pageErrors)}\npage state: ${JSON.stringify(state)}`);
    });
    expect(await page.textContent('#conn')).toBe('Back online');
    expect(pageErrors).toEqual([]);
  });

  it('is usable on a 375 px phone: one-line summary, markers not covered by the panel', async () => {
    const phone = await newPage(browser, { width: 375, height: 667 });
    try {
      await phone.page.goto(`${ts.url}/map`);
      await phone.page.waitForSelector('#conn[data-state="live"]');
      await phone.page.waitForFunction(() => document.querySelectorAll('.venue-marker').length === 12);
      const layout = await phone.page.evaluate(() => {
        const box = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
        const summary = document.getElementById('summary')!;
        const lineHeight = parseFloat(getComputedStyle(summary).lineHeight) || parseFloat(getComputedStyle(summary).fontSize) * 1.3;
        const panel = box('.panel');
        const markers = Array.from(document.querySelectorAll('.venue-marker'), (m) => m.getBoundingClientRect());
        const visible = markers.filter((m) => m.bottom > 0 && m.top < innerHeight && m.right > 0 && m.left < innerWidth);
        const covered = visible.filter((m) => m.top < panel.bottom && m.bottom > panel.top && m.left < panel.right && m.right > panel.left);
        return {
          summaryLines: Math.round(summary.getBoundingClientRect().height / lineHeight),
          bar: box('.bar').height,
          scrollWidth: document.documentElement.scrollWidth,
          visible: visible.length,
          covered: covered.length,
          panelHeight: panel.height,
        };
      });
      expect(layout.summaryLines).toBe(1);
      expect(layout.bar).toBeLessThan(80);
      expect(layout.scrollWidth).toBeLessThanOrEqual(375);
      expect(layout.panelHeight).toBeLessThan(667 * 0.35);
      expect(layout.visible).toBeGreaterThan(0);
      expect(layout.covered).toBeLessThan(layout.visible);
      await screenshot(phone.page, 'web-map-375px');
      expect(phone.errors).toEqual([]);
    } finally {
      await phone.page.context().close();
    }
  });

  it('re-watches the new view once after a burst of pans', async () => {
    await page.evaluate(() => {
      const w = window as unknown as { treatmeMap: { socket: { onAnyOutgoing(f: (ev: string) => void): void } }; mapWatches: number };
      w.mapWatches = 0;
      w.treatmeMap.socket.onAnyOutgoing((ev) => {
        if (ev === 'map:watch') w.mapWatches += 1;
      });
    });
    await page.evaluate(() => {
      const w = window as unknown as { treatmeMap: { map: { panBy(p: [number, number], o: { animate: boolean }): void } } };
      for (let i = 0; i < 5; i++) w.treatmeMap.map.panBy([40, 0], { animate: false });
    });
    const watches = () => page.evaluate(() => (window as unknown as { mapWatches: number }).mapWatches);
    await page.waitForFunction(() => (window as unknown as { mapWatches: number }).mapWatches >= 1);
    await new Promise((r) => setTimeout(r, 600));
    expect(await watches()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});

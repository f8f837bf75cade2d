import L from 'leaflet';
import { io } from 'socket.io-client';
import { ClientEvent, ServerEvent, type VenueCount } from '../../protocol/events';
import type { NearbyVenuesResponse, VenueView } from '../../protocol/http/venues';
import { trackConnection, type AppSocket } from '../shared/connection-status';
import { requestJson } from '../shared/http';
import { readPageConfig, type MapPageConfig } from '../shared/page-config';
import { CountBook, busyLevel, markerSize } from './count-book';

type Venue = Pick<VenueView, 'id' | 'name' | 'latitude' | 'longitude' | 'address'>;

/** Pan/zoom settle time before re-watching: a drag fires dozens of move events. */
const REWATCH_DEBOUNCE_MS = 300;
/** The REST venue search radius is capped server-side at 50 km. */
const MAX_RADIUS_M = 50_000;
const BUSIEST_SHOWN = 8;

const config = readPageConfig<MapPageConfig>();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const map = L.map('map', { zoomControl: true, attributionControl: true, preferCanvas: false }).setView(
  [config.center.lat, config.center.lng],
  config.zoom,
);

// Tiles are decoration: when they fail (offline, blocked, bad URL) the grid background and the
// venue markers still make a usable map.
if (config.tileUrl) {
  const tiles = L.tileLayer(config.tileUrl, {
    maxZoom: 19,
    attribution: config.tileUrl.includes('openstreetmap') ? '&copy; OpenStreetMap contributors' : '',
  });
  const note = $('tiles-note');
  tiles.on('tileerror', () => {
    note.hidden = false;
  });
  tiles.on('tileload', () => {
    note.hidden = true;
  });
  tiles.addTo(map);
} else {
  $('tiles-note').hidden = false;
}

const counts = new CountBook();
const venues = new Map<string, { venue: Venue; marker: L.Marker; shown: number }>();

function iconFor(venue: Venue, count: number, changed: boolean): L.DivIcon {
  const size = markerSize(count);
  const level = busyLevel(count);
  const html =
    `<div class="venue-marker busy-${level}${changed ? ' changed' : ''}" data-venue-id="${venue.id}" data-count="${count}" ` +
    `data-level="${level}" title="${escapeHtml(venue.name)}: ${count} here">${count}</div>`;
  return L.divIcon({ className: 'venue-icon', html, iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
}

/** The venue's name beside its circle, always shown: on a plain background it is the only landmark. */
function labelFor(marker: L.Marker, venue: Venue, count: number): void {
  const people = count === 1 ? '1 person here' : `${count} people here`;
  marker.unbindTooltip().bindTooltip(`<span class="venue-label" title="${people}">${escapeHtml(venue.name)}</span>`, {
    permanent: true,
    direction: 'right',
    offset: [markerSize(count) / 2 - 4, 0],
    className: 'venue-tip',
  });
}

function addVenue(v: Venue): void {
  if (venues.has(v.id)) return;
  const count = counts.get(v.id)?.count ?? 0;
  const marker = L.marker([v.latitude, v.longitude], {
    icon: iconFor(v, count, false),
    keyboard: true,
    title: v.name,
    riseOnHover: true,
  }).addTo(map);
  labelFor(marker, v, count);
  venues.set(v.id, { venue: v, marker, shown: count });
}

function applyCount(c: VenueCount): void {
  if (!counts.apply(c)) return;
  showCount(c.venueId);
  scheduleSummary();
}

/** Brings a marker in line with the book; compares with what it shows, so a failed redraw heals on the next message. */
function showCount(venueId: string): void {
  const entry = venues.get(venueId);
  const count = counts.get(venueId)?.count ?? 0;
  if (!entry || entry.shown === count) return;
  entry.marker.setIcon(iconFor(entry.venue, count, true));
  entry.marker.setZIndexOffset(count);
  labelFor(entry.marker, entry.venue, count);
  entry.shown = count;
}

let summaryQueued = false;
function scheduleSummary(): void {
  if (summaryQueued) return;
  summaryQueued = true;
  requestAnimationFrame(() => {
    summaryQueued = false;
    renderSummary();
  });
}

function renderSummary(): void {
  const bounds = map.getBounds();
  const inView = [...venues.values()].filter((e) => bounds.contains(e.marker.getLatLng()));
  const people = inView.reduce((sum, e) => sum + (counts.get(e.venue.id)?.count ?? 0), 0);
  $('summary').textContent = `${inView.length} venue${inView.length === 1 ? '' : 's'} in view · ${people} people out right now`;
  const top = inView
    .map((e) => ({ v: e.venue, n: counts.get(e.venue.id)?.count ?? 0 }))
    .sort((a, b) => b.n - a.n || a.v.name.localeCompare(b.v.name))
    .slice(0, BUSIEST_SHOWN);
  const list = $('busiest');
  list.replaceChildren(
    ...top.map(({ v, n }) => {
      const li = document.createElement('li');
      li.dataset.venueId = v.id;
      li.innerHTML = `${escapeHtml(v.name)} <b>${n}</b>`;
      li.addEventListener('click', () => map.panTo([v.latitude, v.longitude]));
      return li;
    }),
  );
}

/** The view as the server's bbox: [west, south, east, north], clamped to valid coordinates. */
function currentBbox(): [number, number, number, number] {
  const b = map.getBounds();
  const clamp = (x: number, lim: number) => Math.max(-lim, Math.min(lim, x));
  return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)];
}

async function loadVenuesInView(): Promise<void> {
  const c = map.getCenter();
  const radius = Math.min(MAX_RADIUS_M, Math.ceil(c.distanceTo(map.getBounds().getNorthEast())));
  const q = new URLSearchParams({ lat: c.lat.toFixed(6), lng: c.lng.toFixed(6), radius: String(Math.max(1, radius)), limit: '100' });
  const res = await requestJson<NearbyVenuesResponse>('GET', `/api/venues?${q}`);
  for (const v of res.venues) {
    counts.apply({ venueId: v.id, count: v.liveCount, version: v.countVersion });
    addVenue(v);
    showCount(v.id);
  }
  scheduleSummary();
}

const socket: AppSocket = io({ transports: ['websocket', 'polling'] });
trackConnection(socket, $('conn'));

socket.on(ServerEvent.VenueCount, applyCount);
socket.on(ServerEvent.VenueSnapshot, (msg) => msg.counts.forEach((c) => applyCount(c)));

/** Follow every venue in view; on a reconnect this also brings a fresh snapshot of what we missed. */
function watchView(): void {
  if (!socket.connected) return;
  socket.timeout(10_000).emit(ClientEvent.MapWatch, { bbox: currentBbox() }, (err, ack) => {
    if (err) return; // lost with the connection; the next 'connect' re-sends it
    if (ack.ok) ack.data.counts.forEach((c) => applyCount(c));
    else console.warn('map:watch refused', ack.error);
  });
}

let viewTimer: ReturnType<typeof setTimeout> | undefined;
function onViewChanged(): void {
  clearTimeout(viewTimer);
  viewTimer = setTimeout(() => {
    watchView();
    loadVenuesInView().catch((err: unknown) => console.warn('loading venues failed', err));
  }, REWATCH_DEBOUNCE_MS);
}

socket.on('connect', () => {
  watchView();
  // Venues may have been added while we were away; their counts come with the snapshot.
  loadVenuesInView().catch((err: unknown) => console.warn('loading venues failed', err));
});
map.on('moveend', onViewChanged);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

// For tests and debugging in the console: the map and the socket, nothing the page depends on.
(window as unknown as { treatmeMap: unknown }).treatmeMap = { map, socket, counts };

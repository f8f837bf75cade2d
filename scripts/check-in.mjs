#!/usr/bin/env node
// `node scripts/check-in.mjs <accessToken> <venueId> [baseUrl]`: checks a signed-in user in at a venue over
// the real socket protocol (standing at the venue's door, open to treats) and keeps the stay alive with a
// heartbeat every 25 s until Ctrl-C. The README's walkthrough uses it; the map shows the count change.
import { io } from 'socket.io-client';

const [token, venueId, base = process.env.BASE ?? 'http://localhost:3000'] = process.argv.slice(2);
if (!token || !venueId) {
  console.error('usage: node scripts/check-in.mjs <accessToken> <venueId> [baseUrl]');
  process.exit(2);
}
const res = await fetch(`${base}/api/venues/${venueId}`);
if (!res.ok) {
  console.error(`GET /api/venues/${venueId} answered ${res.status}`);
  process.exit(1);
}
const { venue } = await res.json();
const socket = io(base, { transports: ['websocket'], auth: { token } });
const emit = (event, payload) =>
  new Promise((resolve) =>
    socket.timeout(10_000).emit(event, payload, (err, ack) => resolve(err ? { ok: false, error: { message: 'no ack' } } : ack)),
  );
socket.on('connect_error', (err) => console.error(`socket: ${err.message}`));
socket.once('connect', async () => {
  const ack = await emit('presence:checkin', {
    venueId,
    lat: venue.latitude,
    lng: venue.longitude,
    wantsToReceive: true,
    wantsToBuy: true,
  });
  if (!ack.ok) {
    console.error(`check-in refused: ${ack.error.code} ${ack.error.message}`);
    process.exit(1);
  }
  console.log(`checked in at ${venue.name}: ${ack.data.count.count} here now (Ctrl-C to leave)`);
  setInterval(() => void emit('presence:heartbeat', {}), 25_000);
});
socket.on('order:received', ({ order }) => console.log(`a treat for you: order ${order.id} (${order.message ?? 'no message'})`));
process.once('SIGINT', async () => {
  await emit('presence:leave', { venueId });
  socket.close();
  process.exit(0);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import { ClientEvent } from '../../protocol/events';
import { emitOk } from '../helpers/socket';
import { startTestServer, type TestClient, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues } from '../helpers/users';

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer({}, { label: 'polling' });
});
afterAll(async () => ts?.close());

describe('clients without WebSocket', () => {
  it('check in and watch counts over HTTP long-polling, then upgrade', async () => {
    const venue = (await demoVenues(ts.server.ctx))[0]!;
    const user = await createUser(ts.server.ctx, 'poller');
    const connect = (token?: string, upgrade = true) =>
      new Promise<TestClient>((res, rej) => {
        const s: TestClient = ioClient(ts.url, {
          auth: token ? { token } : {},
          transports: ['polling', 'websocket'],
          upgrade,
          forceNew: true,
          reconnection: false,
        });
        s.once('connect', () => res(s));
        s.once('connect_error', rej);
      });
    const viewer = await connect(undefined, false);
    const phone = await connect(user.token);
    try {
      expect(viewer.io.engine.transport.name).toBe('polling');
      await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
      const seen = new Promise<number>((res) => viewer.on('venue:count', (c) => c.venueId === venue.id && res(c.count)));
      await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
      expect(await seen).toBe(1);
      await new Promise<void>((res) =>
        phone.io.engine.transport.name === 'websocket' ? res() : phone.io.engine.once('upgrade', () => res()),
      );
      expect(await emitOk(phone, ClientEvent.Heartbeat, {})).toMatchObject({ presence: { venueId: venue.id } });
    } finally {
      viewer.close();
      phone.close();
    }
  });
});

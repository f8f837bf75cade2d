import { afterAll, describe, expect, it, vi } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { emitOk } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';

// Counts DynamoDB clients built while the server starts: the process must make exactly one.
const created = vi.hoisted(() => ({ dynamoClients: 0 }));
vi.mock('../../server/storage/dynamo-client', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../server/storage/dynamo-client')>();
  return {
    ...real,
    createDynamoClients: (...args: Parameters<typeof real.createDynamoClients>) => {
      created.dynamoClients++;
      return real.createDynamoClients(...args);
    },
  };
});

/** Sockets and timers the process holds, by kind (TCPSocketWrap, Timeout…). */
function openResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

describe('shutdown closes every process-wide resource', () => {
  let ts: TestServer | undefined;
  afterAll(async () => ts?.close());

  it('builds one DynamoDB client, and leaves no client, connection or socket open after shutdown', async () => {
    const before = openResources();
    ts = await startTestServer({}, { label: 'shutdown-res' });
    const { ctx } = ts.server;
    expect(created.dynamoClients).toBe(1);
    const destroy = vi.spyOn(ctx.dynamo!.client, 'destroy');

    // Use every store once so each has live connections to close.
    const user = await ctx.db.prisma.user.create({ data: { displayName: 'closer', email: `closer-${Date.now()}@test.treatme.dev` } });
    const venue = (await ctx.db.prisma.venue.findFirst({ orderBy: { slug: 'asc' } }))!;
    const phone = await ts.connect(ctx.tokens.sign(user.id));
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    expect((await fetch(`${ts.url}/ready`)).status).toBe(200);
    phone.disconnect();

    await ts.close();
    await ts.close(); // safe twice: nothing is closed a second time
    expect(destroy).toHaveBeenCalledTimes(1);
    expect(ts.server.httpServer.listening).toBe(false);

    // Sockets (PostgreSQL pool, Redis, DynamoDB keep-alive, HTTP) are gone once the event loop turns.
    await new Promise((r) => setTimeout(r, 200));
    for (const name of ['main', 'pub', 'sub'] as const) expect({ name, status: ctx.redis![name].status }).toEqual({ name, status: 'end' });
    const after = openResources();
    for (const kind of ['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap']) {
      expect({ kind, open: after.get(kind) ?? 0 }).toEqual({ kind, open: before.get(kind) ?? 0 });
    }
  });
});

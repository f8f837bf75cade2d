import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoStays, explainDifferences, serverStays, type StayReader } from '../../loadtest/diagnose';
import { PresenceModel } from '../../loadtest/presence-model';
import type { Identity } from '../../loadtest/replayer';
import { startTestServer, type StoreChoice, type TestServer } from '../helpers/test-server';
import { createUsers, demoVenues } from '../helpers/users';

/**
 * Issue #14: a judge difference names the users whose stays disagree and their last actions, in
 * embedded mode (the store read through the dev lookup of the server) as well as on the real stores
 * (DynamoDB read directly).
 */
const timings = { timeoutMs: 600_000, graceMs: 60_000, ttlMs: 4 * 3_600_000, settleMs: 1_000, closeLagMs: 2_000 };

for (const stores of ['embedded', 'real'] as const satisfies StoreChoice[]) {
  describe(`the difference report (${stores} stores)`, () => {
    let ts: TestServer;
    beforeAll(async () => {
      ts = await startTestServer({}, { label: `diagnose-${stores}`, stores });
    }, 120_000);
    afterAll(async () => ts?.close(), 60_000);

    it('names each user whose stored stay disagrees with the model, with what the model believes and what they did', async () => {
      const ctx = ts.server.ctx;
      const venues = await demoVenues(ctx);
      const [v0, v1] = [venues[0]!, venues[1]!];
      const people = await createUsers(ctx, 3, `diag-${stores}`);
      const users: Identity[] = people.map((p) => ({ userId: p.id, token: p.token }));
      const now = Date.now();
      // Stored: user 0 at v0 (the model agrees), user 1 at v1 (the model thinks v0), user 2 nowhere (the model thinks v1).
      await ctx.presence.checkIn({ userId: people[0]!.id, venueId: v0.id, lat: v0.latitude, lng: v0.longitude, now });
      await ctx.presence.checkIn({ userId: people[1]!.id, venueId: v1.id, lat: v1.latitude, lng: v1.longitude, now });
      const model = new PresenceModel(timings);
      model.checkIn(0, 0, now, now);
      model.checkIn(1, 0, now, now);
      model.checkIn(2, 1, now, now);
      const trail = new Map([
        [1, ['t=10 checkIn v1 ack lost', 't=20 heartbeat → v1']],
        [2, ['t=30 checkIn v1 ok', 't=40 close']],
      ]);

      const readers: { source: string; readStays: StayReader }[] = [
        { source: `the store of ${ts.url}`, readStays: serverStays(ts.url, users) },
      ];
      if (stores === 'real')
        readers.push({ source: 'DynamoDB', readStays: dynamoStays(ts.config.dynamo!.endpoint!, ts.config.dynamo!.tablePrefix) });
      for (const { source, readStays } of readers) {
        const lines = await explainDifferences({
          readStays,
          source,
          users,
          venueIds: [v0.id, v1.id],
          model,
          trail,
          at: Date.now(),
        });
        expect(lines[0]).toMatch(new RegExp(`^2 users where ${source.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} and the model disagree`));
        expect(lines.some((l) => l.startsWith('user 0:'))).toBe(false);
        const one = lines.findIndex((l) => l.startsWith('user 1: server v1 (expiresAt'));
        expect(one).toBeGreaterThan(0);
        expect(lines[one]).toContain('model venue 0');
        expect(lines[one + 1]).toBe('  did: t=10 checkIn v1 ack lost | t=20 heartbeat → v1');
        const two = lines.findIndex((l) => l.startsWith('user 2: server vnull, model venue 1'));
        expect(two).toBeGreaterThan(0);
        expect(lines[two + 1]).toBe('  did: t=30 checkIn v1 ok | t=40 close');
      }
    }, 60_000);
  });
}

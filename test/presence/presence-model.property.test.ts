import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoPresenceStore } from '../../server/presence/dynamo-presence-store';
import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';
import type { PresenceStore } from '../../server/presence/presence-store';
import { createDynamoClients } from '../../server/storage/dynamo-client';
import { deleteTables, ensureTables } from '../../server/storage/dynamo-tables';
import { isolationIds } from '../helpers/isolation';
import { sweepAll } from './presence-store.contract';

/**
 * Model test: random sequences of check-ins, moves, replays, heartbeats, leaves, concurrent bursts,
 * clock jumps and sweeps. After every command each venue's counter equals the model's recorded stays
 * there (expired-but-unswept included: the sweeper owes them); after a final sweep it equals the
 * unexpired check-ins — the "counts are exact" rule. Versions never go backwards.
 */
const TIMEOUT = 60_000;
const TTL = 300_000;
const T0 = 1_700_000_000_000;
const USERS = ['u0', 'u1', 'u2', 'u3'] as const;
const VENUES = ['v0', 'v1', 'v2'] as const;

type Cmd =
  | { k: 'checkin'; u: number; v: number }
  | { k: 'replay' }
  | { k: 'heartbeat'; u: number }
  | { k: 'leave'; u: number; expected: number | null }
  | { k: 'tick'; ms: number }
  | { k: 'sweep' }
  | { k: 'burst'; moves: { u: number; v: number }[] };

const user = fc.integer({ min: 0, max: USERS.length - 1 });
const venue = fc.integer({ min: 0, max: VENUES.length - 1 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('checkin' as const), u: user, v: venue }) },
  { weight: 1, arbitrary: fc.constant({ k: 'replay' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('heartbeat' as const), u: user }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('leave' as const), u: user, expected: fc.option(venue, { nil: null }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.constantFrom(1_000, 20_000, 30_000, 35_000, 60_000, 61_000, 200_000) }),
  },
  { weight: 1, arbitrary: fc.constant({ k: 'sweep' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('burst' as const),
      moves: fc.uniqueArray(fc.record({ u: user, v: venue }), { selector: (m) => m.u, minLength: 2, maxLength: 4 }),
    }),
  },
);

interface Stay {
  venueId: string;
  checkedInAt: number;
  expiresAt: number;
}

class Model {
  stays = new Map<string, Stay>();
  checkIn(u: string, v: string, now: number) {
    const old = this.stays.get(u);
    if (old && old.expiresAt > now && old.venueId === v) {
      old.expiresAt = Math.max(old.expiresAt, Math.min(now + TIMEOUT, old.checkedInAt + TTL));
    } else {
      this.stays.set(u, { venueId: v, checkedInAt: now, expiresAt: now + Math.min(TIMEOUT, TTL) });
    }
  }
  heartbeat(u: string, now: number) {
    const s = this.stays.get(u);
    if (!s || s.expiresAt <= now) return;
    const next = Math.min(now + TIMEOUT, s.checkedInAt + TTL);
    if (next > s.expiresAt && s.expiresAt - now < TIMEOUT / 2) s.expiresAt = next;
  }
  leave(u: string, expected: string | undefined) {
    const s = this.stays.get(u);
    if (s && (expected === undefined || s.venueId === expected)) this.stays.delete(u);
  }
  sweep(now: number) {
    for (const [u, s] of this.stays) if (s.expiresAt <= now) this.stays.delete(u);
  }
  counts(pred: (s: Stay) => boolean = () => true): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.stays.values()) if (pred(s)) out[s.venueId] = (out[s.venueId] ?? 0) + 1;
    return out;
  }
}

let runSeq = 0;

async function runModel(store: PresenceStore, cmds: Cmd[]): Promise<void> {
  await store.clear();
  const ns = `r${process.pid}-${++runSeq}-`;
  const U = (i: number) => `${ns}${USERS[i]}`;
  const V = (i: number) => `${ns}${VENUES[i]}`;
  const venues = VENUES.map((_, i) => V(i));
  const model = new Model();
  const versions = new Map<string, number>();
  let now = T0;
  let last: { u: number; v: number } | undefined;

  const expectCounts = async (expected: Record<string, number>, step: string) => {
    const counts = await store.getCounts(venues);
    const actual: Record<string, number> = {};
    for (const [v, c] of counts) {
      if (c.count !== 0) actual[v] = c.count;
      expect(c.version, `${step}: version of ${v} went backwards`).toBeGreaterThanOrEqual(versions.get(v) ?? 0);
      versions.set(v, c.version);
    }
    expect(actual, step).toEqual(expected);
  };

  for (const [i, c] of cmds.entries()) {
    switch (c.k) {
      case 'checkin':
      case 'replay': {
        const target = c.k === 'checkin' ? c : last;
        if (!target) break;
        last = target;
        await store.checkIn({ userId: U(target.u), venueId: V(target.v), lat: 1, lng: 2, now });
        model.checkIn(U(target.u), V(target.v), now);
        break;
      }
      case 'heartbeat':
        await store.heartbeat(U(c.u), now);
        model.heartbeat(U(c.u), now);
        break;
      case 'leave': {
        const expected = c.expected === null ? undefined : V(c.expected);
        await store.leave(U(c.u), now, expected);
        model.leave(U(c.u), expected);
        break;
      }
      case 'tick':
        now += c.ms;
        break;
      case 'sweep':
        await sweepAll(store, now);
        model.sweep(now);
        break;
      case 'burst':
        // Distinct users at once: their order does not matter, so the model applies them in any order.
        await Promise.all(c.moves.map((m) => store.checkIn({ userId: U(m.u), venueId: V(m.v), lat: 1, lng: 2, now })));
        for (const m of c.moves) model.checkIn(U(m.u), V(m.v), now);
        break;
    }
    await expectCounts(model.counts(), `after command ${i} ${JSON.stringify(c)}`);
  }

  await sweepAll(store, now);
  model.sweep(now);
  await expectCounts(
    model.counts((s) => s.expiresAt > now),
    'after the final sweep: unexpired check-ins',
  );
  for (const [i] of USERS.entries()) {
    const got = await store.get(U(i), now);
    const want = model.stays.get(U(i));
    expect(got && { venueId: got.venueId, checkedInAt: got.checkedInAt, expiresAt: got.expiresAt }, `presence of ${U(i)}`).toEqual(
      want ?? null,
    );
  }
}

const commands = (maxLength: number) => fc.array(cmd, { minLength: 1, maxLength });
const timings = { timeoutMs: TIMEOUT, ttlMs: TTL };

describe('presence counts follow the model', () => {
  it('in memory', async () => {
    const store = new MemoryPresenceStore(timings);
    await fc.assert(
      fc.asyncProperty(commands(30), (cmds) => runModel(store, cmds)),
      { numRuns: 1500 },
    );
  });

  describe('on DynamoDB Local', () => {
    const { tablePrefix } = isolationIds('presence-model');
    const { client, doc } = createDynamoClients({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1' });
    beforeAll(async () => {
      await ensureTables(client, tablePrefix);
    });
    afterAll(async () => {
      await deleteTables(client, tablePrefix);
      client.destroy();
    });

    it('matches the model', { timeout: 60_000 }, async () => {
      const store = new DynamoPresenceStore({ doc, tablePrefix, ...timings });
      await fc.assert(
        fc.asyncProperty(commands(18), (cmds) => runModel(store, cmds)),
        { numRuns: 30 },
      );
    });
  });
});

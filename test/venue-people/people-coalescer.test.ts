import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VenuePeopleRelay } from '../../protocol/events';
import { PresenceJournal, type PresenceEvent } from '../../server/presence/presence-journal';
import type { PresenceRecord } from '../../server/presence/presence-store';
import { PeopleCoalescer } from '../../server/venue-people/people-coalescer';

const person = (userId: string, wantsToReceive = false) => ({
  userId,
  displayName: userId,
  profileImageUrl: null,
  wantsToBuy: false,
  wantsToReceive,
});
const upsert = (venueId: string, userId: string, wantsToReceive = false): VenuePeopleRelay => ({
  venueId,
  userId,
  person: person(userId, wantsToReceive),
});
const remove = (venueId: string, userId: string): VenuePeopleRelay => ({ venueId, userId, person: null });

describe('people coalescer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function make(windowMs = 250) {
    const sent: { venueId: string; changes: VenuePeopleRelay[]; at: number }[] = [];
    const c = new PeopleCoalescer({ windowMs, emit: (venueId, changes) => sent.push({ venueId, changes, at: Date.now() }) });
    return { c, sent };
  }

  it('sends a whole batch at once after a quiet window', () => {
    const { c, sent } = make();
    c.offer('v', [upsert('v', 'a'), upsert('v', 'b')]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.changes.map((x) => x.userId)).toEqual(['a', 'b']);
  });

  it('merges what follows inside the window into one trailing message where each person’s newest state wins', () => {
    const { c, sent } = make();
    const t0 = Date.now();
    c.offer('v', [upsert('v', 'a')]);
    c.offer('v', [upsert('v', 'b')]);
    c.offer('v', [upsert('v', 'c', false)]);
    c.offer('v', [upsert('v', 'c', true)]);
    c.offer('v', [remove('v', 'b')]);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ at: t0 + 250 });
    expect(sent[1]!.changes).toEqual([upsert('v', 'c', true), remove('v', 'b')]);
  });

  it('keeps venues apart and never sends more than one message per venue per window, however many changes', () => {
    const { c, sent } = make(100);
    for (let i = 0; i < 2_000; i++) {
      c.offer(i % 2 ? 'v' : 'w', [upsert(i % 2 ? 'v' : 'w', `u${i}`)]);
      if (i % 20 === 0) vi.advanceTimersByTime(7);
    }
    vi.advanceTimersByTime(100);
    for (const venueId of ['v', 'w']) {
      const mine = sent.filter((s) => s.venueId === venueId);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.at - mine[i - 1]!.at).toBeGreaterThanOrEqual(100);
      expect(mine.flatMap((m) => m.changes).length).toBe(1_000);
    }
  });

  it('sends nothing for an empty batch and flushes what is pending on close', () => {
    const { c, sent } = make();
    c.offer('v', []);
    expect(sent).toHaveLength(0);
    c.offer('v', [upsert('v', 'a')]);
    c.offer('v', [upsert('v', 'b')]);
    c.close();
    expect(sent.map((s) => s.changes.map((x) => x.userId))).toEqual([['a'], ['b']]);
  });
});

describe('presence journal: the venue a batch moved someone away from', () => {
  const rec = (userId: string, venueId: string): PresenceRecord => ({
    userId,
    venueId,
    lat: 0,
    lng: 0,
    wantsToBuy: false,
    wantsToReceive: false,
    visible: true,
    checkedInAt: 0,
    lastSeenAt: 0,
    expiresAt: 1e15,
  });
  const prisma = { presence: { upsert: () => null, deleteMany: () => null }, $transaction: async () => [] };
  const logger = { error: () => undefined } as never;

  async function batch(record: (j: PresenceJournal) => void): Promise<PresenceEvent[]> {
    const j = new PresenceJournal(prisma as never, logger, 10_000);
    const seen: PresenceEvent[] = [];
    j.onFlush(async (events) => void seen.push(...events));
    record(j);
    await j.flush();
    return seen;
  }

  it('keeps the first venue left when one batch holds several moves', async () => {
    const [e] = await batch((j) => {
      j.record('u', rec('u', 'B'), 'A');
      j.record('u', rec('u', 'C'), 'B');
    });
    expect(e).toMatchObject({ userId: 'u', presence: { venueId: 'C' }, previousVenueId: 'A' });
  });

  it('forgets the move when the batch ends back where it started, and keeps it through a leave', async () => {
    const [back] = await batch((j) => {
      j.record('u', rec('u', 'B'), 'A');
      j.record('u', rec('u', 'A'), 'B');
    });
    expect(back).toMatchObject({ presence: { venueId: 'A' }, previousVenueId: null });
    const [left] = await batch((j) => {
      j.record('u', rec('u', 'B'), 'A');
      j.record('u', null, 'B');
    });
    expect(left).toMatchObject({ presence: null, previousVenueId: 'A' });
  });
});

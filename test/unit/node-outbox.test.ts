import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { NodeFanoutFrame, VenueCount, VenuePeopleRelay } from '../../protocol/events';
import { NodeOutbox } from '../../server/realtime/node-outbox';

/** A fake clock and the socket.io surface the outbox uses: what it publishes, and a way to deliver a frame. */
function harness(windowMs = 50, clustered = true) {
  let now = 1_000;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  const published: NodeFanoutFrame[] = [];
  let inbound: ((frame: NodeFanoutFrame) => void) | undefined;
  const io = {
    serverSideEmit: (event: string, frame: NodeFanoutFrame) => {
      expect(event).toBe('node:fanout');
      published.push(frame);
      return true;
    },
    on: (event: string, fn: (frame: NodeFanoutFrame) => void) => {
      if (event === 'node:fanout') inbound = fn;
    },
  };
  const registry = new Registry();
  const outbox = new NodeOutbox({
    io: io as never,
    windowMs,
    clustered,
    registry,
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => void ((t as { live: boolean }).live = false),
  });
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.live && x.at <= now)) {
      t.live = false;
      t.fn();
    }
  };
  return { outbox, published, advance, deliver: (f: NodeFanoutFrame) => inbound?.(f), registry };
}

const count = (venueId: string, version: number): VenueCount => ({ venueId, count: version, version });
const person = (venueId: string, userId: string, here = true): VenuePeopleRelay => ({
  venueId,
  userId,
  person: here ? { userId, displayName: userId, profileImageUrl: null, wantsToBuy: false, wantsToReceive: false } : null,
});

describe('node outbox: one Redis publish per window per node', () => {
  it('sends the first change after a quiet window at once, then one frame for everything inside the window', () => {
    const { outbox, published, advance } = harness(50);
    outbox.addCounts([count('a', 1)]);
    expect(published).toHaveLength(1); // leading edge: no wait on a quiet night
    for (let i = 2; i <= 200; i++) {
      outbox.addCounts([count(i % 2 ? 'a' : 'b', i)]);
      if (i % 10 === 0) outbox.addPeople([person(i % 2 ? 'a' : 'b', `u${i}`)]);
      advance(0.2);
    }
    // 200 changes over 40 ms: still the one leading publish.
    expect(published).toHaveLength(1);
    advance(9);
    expect(published).toHaveLength(1);
    advance(2); // the window closes 50 ms after the leading publish
    expect(published).toHaveLength(2);
    // Counts are absolute: only each venue's newest version travels; people changes share the frame.
    expect([...published[1]!.counts].sort((x, y) => x.venueId.localeCompare(y.venueId))).toEqual([count('a', 199), count('b', 200)]);
    expect(published[1]!.people.map((p) => p.userId)).toEqual(Array.from({ length: 20 }, (_, k) => `u${(k + 1) * 10}`));
    // Quiet again: the next change goes at once.
    advance(100);
    outbox.addPeople([person('a', 'late')]);
    expect(published).toHaveLength(3);
  });

  it('keeps each person’s newest state per venue, in the order the changes were made', () => {
    const { outbox, published, advance } = harness(50);
    outbox.addCounts([count('x', 1)]);
    outbox.addPeople([person('a', 'u1'), person('a', 'u2')]);
    outbox.addPeople([person('a', 'u1', false), person('b', 'u1')]);
    advance(50);
    expect(published[1]!.people.map((p) => [p.venueId, p.userId, p.person !== null])).toEqual([
      ['a', 'u2', true],
      ['a', 'u1', false],
      ['b', 'u1', true],
    ]);
  });

  it('counts its publishes and publishes nothing on a single node', () => {
    const single = harness(50, false);
    single.outbox.addCounts([count('a', 1)]);
    single.outbox.addPeople([person('a', 'u')]);
    single.outbox.flush();
    expect(single.published).toHaveLength(0);

    const { outbox, registry, advance } = harness(50);
    outbox.addCounts([count('a', 1)]);
    outbox.addCounts([count('a', 2)]);
    outbox.addPeople([person('a', 'u')]);
    advance(50);
    return registry.getSingleMetricAsString('treatme_fanout_publishes_total').then((text) => {
      expect(text).toContain('kind="counts"} 1');
      expect(text).toContain('kind="both"} 1');
    });
  });

  it('hands a received frame’s counts and people to their listeners, and flushes on close', () => {
    const { outbox, published, deliver } = harness(50);
    const counts: VenueCount[][] = [];
    const people: VenuePeopleRelay[][] = [];
    outbox.onCounts((c) => counts.push(c));
    outbox.onPeople((p) => people.push(p));
    deliver({ counts: [count('a', 3)], people: [person('a', 'u')] });
    deliver({ counts: [], people: [person('b', 'v')] });
    expect(counts).toEqual([[count('a', 3)]]);
    expect(people.map((p) => p.map((r) => r.userId))).toEqual([['u'], ['v']]);

    outbox.addCounts([count('a', 4)]);
    outbox.addCounts([count('a', 5)]);
    outbox.close();
    expect(published.map((f) => f.counts)).toEqual([[count('a', 4)], [count('a', 5)]]);
    outbox.addCounts([count('a', 6)]);
    expect(published).toHaveLength(3); // after close nothing waits
  });
});

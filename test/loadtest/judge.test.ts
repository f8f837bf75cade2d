import { describe, expect, it } from 'vitest';
import type { VenueCount } from '../../protocol/events';
import { syntheticVenues } from '../../loadtest/generator';
import { compareCounts } from '../../loadtest/judge';
import { PresenceModel } from '../../loadtest/presence-model';
import type { ViewerState } from '../../loadtest/replayer';

const venues = syntheticVenues(3);
const timings = { timeoutMs: 10_000, graceMs: 1_000, ttlMs: 3_600_000, settleMs: 500, closeLagMs: 100 };

function viewer(counts: Record<string, number>, bbox: ViewerState['bbox'] = null): ViewerState {
  const seen = new Map<string, VenueCount>(Object.entries(counts).map(([venueId, count]) => [venueId, { venueId, count, version: 1 }]));
  return { label: 'viewer', node: 0, bbox, watchAll: bbox === null, seen };
}
const snapshot = (counts: number[]) => [{ label: 'server@node0', node: 0, counts: new Map(venues.map((v, i) => [v.id, counts[i] ?? 0])) }];

describe('the judge', () => {
  it('passes when the server and every viewer agree with the trace', () => {
    const expected = [
      { lo: 2, hi: 2 },
      { lo: 0, hi: 0 },
      { lo: 1, hi: 1 },
    ];
    const r = compareCounts({
      venues,
      expected,
      snapshots: snapshot([2, 0, 1]),
      viewers: [viewer({ venue_0: 2, venue_1: 0, venue_2: 1 })],
    });
    expect(r.mismatches).toEqual([]);
  });

  it('catches a wrong count on the server', () => {
    const expected = [
      { lo: 2, hi: 2 },
      { lo: 0, hi: 0 },
      { lo: 1, hi: 1 },
    ];
    const r = compareCounts({ venues, expected, snapshots: snapshot([3, 0, 1]), viewers: [] });
    expect(r.mismatches).toHaveLength(1);
    expect(r.mismatches[0]).toMatchObject({ source: 'server@node0', venueId: 'venue_0', actual: 3 });
  });

  it('catches a viewer that missed the last broadcast even when the server is right', () => {
    const expected = [
      { lo: 2, hi: 2 },
      { lo: 0, hi: 0 },
      { lo: 1, hi: 1 },
    ];
    const r = compareCounts({
      venues,
      expected,
      snapshots: snapshot([2, 0, 1]),
      viewers: [viewer({ venue_0: 1, venue_1: 0, venue_2: 1 })],
    });
    expect(r.mismatches).toEqual([expect.objectContaining({ source: 'viewer', venueId: 'venue_0', actual: 1, server: 2 })]);
  });

  it('only holds a map viewer to the venues inside its view', () => {
    const v = venues[1]!;
    const bbox: [number, number, number, number] = [v.lng - 0.0001, v.lat - 0.0001, v.lng + 0.0001, v.lat + 0.0001];
    const expected = [
      { lo: 5, hi: 5 },
      { lo: 1, hi: 1 },
      { lo: 0, hi: 0 },
    ];
    const r = compareCounts({ venues, expected, snapshots: snapshot([5, 1, 0]), viewers: [viewer({ venue_1: 1 }, bbox)] });
    expect(r.mismatches).toEqual([]);
    expect(r.comparisons).toBe(3 + 1);
  });
});

describe('the presence model behind the judge', () => {
  it('counts a killed app until its grace period has run out, then not', () => {
    const m = new PresenceModel(timings);
    m.checkIn(1, 0, 1_000, 1_010);
    m.disconnect(1, 2_000);
    expect(m.expected({ lo: 2_500, hi: 2_600 }, 3)[0]).toEqual({ lo: 1, hi: 1 });
    expect(m.expected({ lo: 3_050, hi: 3_100 }, 3)[0]).toEqual({ lo: 0, hi: 1 });
    expect(m.expected({ lo: 4_000, hi: 4_100 }, 3)[0]).toEqual({ lo: 0, hi: 0 });
  });

  it('resumes a stay when the phone reconnects inside the grace period', () => {
    const m = new PresenceModel(timings);
    m.checkIn(1, 2, 1_000, 1_010);
    m.disconnect(1, 2_000);
    m.connect(1, 2_300, 2_350);
    expect(m.expected({ lo: 9_000, hi: 9_100 }, 3)[2]).toEqual({ lo: 1, hi: 1 });
  });

  it('ends a stay whose heartbeats stopped after the timeout, and a move counts once', () => {
    const m = new PresenceModel(timings);
    m.checkIn(1, 0, 1_000, 1_010);
    m.checkIn(1, 1, 2_000, 2_010);
    expect(m.expected({ lo: 3_000, hi: 3_100 }, 3)).toEqual([
      { lo: 0, hi: 0 },
      { lo: 1, hi: 1 },
      { lo: 0, hi: 0 },
    ]);
    expect(m.expected({ lo: 13_000, hi: 13_100 }, 3)[1]).toEqual({ lo: 0, hi: 0 });
  });

  it('tells the replayer how long to wait for an expiry straddling the check', () => {
    const m = new PresenceModel(timings);
    m.checkIn(1, 0, 1_000, 1_010);
    m.disconnect(1, 2_000);
    const p = m.pendingAt(2_500, 1_000);
    expect(p.users).toBe(1);
    expect(p.settleBy).toBeGreaterThanOrEqual(2_000 + 100 + 1_000 + 500);
  });
});

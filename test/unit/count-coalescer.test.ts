import { describe, expect, it, vi, beforeEach, afterEach } from 'vitest';
import fc from 'fast-check';
import type { VenueCount } from '../../protocol/events';
import { CountCoalescer } from '../../server/realtime/count-coalescer';

describe('count coalescer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function make(windowMs = 250) {
    const sent: (VenueCount & { at: number })[] = [];
    const c = new CountCoalescer({ windowMs, emit: (v) => sent.push({ ...v, at: Date.now() }) });
    return { c, sent };
  }

  it('sends the first change after a quiet window at once', () => {
    const { c, sent } = make();
    c.offer({ venueId: 'v', count: 1, version: 1 });
    expect(sent).toEqual([expect.objectContaining({ count: 1, version: 1 })]);
  });

  it('merges the changes inside a window into one trailing broadcast with the newest count', () => {
    const { c, sent } = make();
    const t0 = Date.now();
    for (let i = 1; i <= 100; i++) c.offer({ venueId: 'v', count: i, version: i });
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ count: 100, version: 100, at: t0 + 250 });
  });

  it('drops a change older than one already sent', () => {
    const { c, sent } = make();
    c.offer({ venueId: 'v', count: 5, version: 5 });
    vi.advanceTimersByTime(1000);
    c.offer({ venueId: 'v', count: 4, version: 4 });
    vi.advanceTimersByTime(1000);
    expect(sent.map((s) => s.version)).toEqual([5]);
  });

  it('keeps venues independent', () => {
    const { c, sent } = make();
    c.offer({ venueId: 'a', count: 1, version: 1 });
    c.offer({ venueId: 'b', count: 1, version: 1 });
    expect(sent.map((s) => s.venueId)).toEqual(['a', 'b']);
  });

  it('never sends two broadcasts of a venue within one window, and always ends on the newest version', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 50 })), { minLength: 1, maxLength: 60 }),
        (steps) => {
          vi.setSystemTime(0);
          vi.clearAllTimers();
          const { c, sent } = make(250);
          let version = 0;
          for (const [gap, n] of steps) {
            vi.advanceTimersByTime(gap);
            for (let i = 0; i < n; i++) c.offer({ venueId: 'v', count: ++version, version });
          }
          vi.advanceTimersByTime(1000);
          for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(250);
          expect(sent.at(-1)!.version).toBe(version);
        },
      ),
      { numRuns: 200 },
    );
  });
});

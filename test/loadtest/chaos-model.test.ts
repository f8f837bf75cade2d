import { describe, expect, it } from 'vitest';
import { chaosMoments } from '../../loadtest/chaos';
import { PresenceModel } from '../../loadtest/presence-model';

const timings = { timeoutMs: 10_000, graceMs: 1_000, ttlMs: 240_000, settleMs: 3_000, closeLagMs: 2_000 };
const LEASE = 10_000;
const WITHIN = LEASE + 5_000;

/** The judge's model of a SIGKILLed node (--chaos): what each of its phones' stays must become. */
describe('the model when a node dies', () => {
  it('a phone that reconnects to a survivor before the lease can lapse keeps its stay, under the ordinary rules again', () => {
    const m = new PresenceModel(timings);
    m.connect(1, 0, 10);
    m.checkIn(1, 0, 100, 120);
    expect(m.nodeLost(1, 1_000, LEASE, WITHIN)).toBe(true);
    m.connect(1, 2_000, 2_050);
    // Past the dead node's reap window, still counted: the survivor holds the stay now.
    m.heartbeat(1, 8_000, 8_010, 0);
    expect(m.expected({ lo: 17_500, hi: 17_600 }, 1)).toEqual([{ lo: 1, hi: 1 }]);
  });

  it('an abandoned phone: surely counted until three quarters of a lease, maybe until the reap bound, then surely out', () => {
    const m = new PresenceModel(timings);
    m.connect(2, 0, 10);
    m.checkIn(2, 0, 100, 120);
    m.heartbeat(2, 900, 910, 0);
    m.nodeLost(2, 1_000, LEASE, WITHIN);
    expect(m.expected({ lo: 5_000, hi: 5_100 }, 1)).toEqual([{ lo: 1, hi: 1 }]);
    // The heartbeat timeout (10 s) would have ended it here; with its node dead only the reap can.
    expect(m.expected({ lo: 12_000, hi: 12_100 }, 1)).toEqual([{ lo: 0, hi: 1 }]);
    expect(m.expected({ lo: 1_000 + WITHIN + timings.settleMs + 1, hi: 20_000 }, 1)).toEqual([{ lo: 0, hi: 0 }]);
    // The recovery probe counts it out already; once the reap is seen the model drops it.
    expect(m.expected({ lo: 5_000, hi: 5_100 }, 1, true)).toEqual([{ lo: 0, hi: 0 }]);
    expect(m.orphansReaped()).toBe(1);
    expect(m.orphans()).toBe(0);
    expect(m.expected({ lo: 5_000, hi: 5_100 }, 1)).toEqual([{ lo: 0, hi: 0 }]);
  });

  it('a phone that had no stay is not orphaned', () => {
    const m = new PresenceModel(timings);
    m.connect(3, 0, 10);
    expect(m.nodeLost(3, 1_000, LEASE, WITHIN)).toBe(false);
  });

  it('faults fall just after a checkpoint, so the next one judges the recovered cluster', () => {
    const night = 360 * 60_000;
    const { killAtT, redisAtT } = chaosMoments(night, 4);
    expect(killAtT).toBeGreaterThan(night / 4);
    expect(killAtT).toBeLessThan(night / 2);
    expect(redisAtT).toBeGreaterThan(night / 2);
    expect(redisAtT).toBeLessThan((3 * night) / 4);
  });
});

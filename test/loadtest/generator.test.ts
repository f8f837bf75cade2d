import { describe, expect, it } from 'vitest';
import { parseTraceLines, traceToLines, TraceFormatError } from '../../protocol/trace';
import { generateTrace, syntheticVenues } from '../../loadtest/generator';

const venues = syntheticVenues(30);
const night = (seed: number) => generateTrace({ seed, users: 300, venues, durationMs: 20 * 60_000 });

describe('the Friday-night generator', () => {
  it('writes the same trace, byte for byte, for the same seed', () => {
    expect(traceToLines(night(7))).toBe(traceToLines(night(7)));
  });

  it('writes a different night for a different seed', () => {
    expect(traceToLines(night(7))).not.toBe(traceToLines(night(8)));
  });

  it('round-trips through the documented JSON-lines format, in time order', () => {
    const trace = night(3);
    const back = parseTraceLines(traceToLines(trace));
    expect(back).toEqual(trace);
    for (let i = 1; i < back.events.length; i++) expect(back.events[i]!.t).toBeGreaterThanOrEqual(back.events[i - 1]!.t);
  });

  it('refuses a trace of an unknown version', () => {
    const lines = traceToLines(night(3)).replace('"version":1', '"version":99');
    expect(() => parseTraceLines(lines)).toThrow(TraceFormatError);
  });

  it('packs a few venues and leaves a long tail quiet', () => {
    const perVenue = new Map<number, number>();
    for (const e of night(11).events) if (e.e === 'checkin') perVenue.set(e.v, (perVenue.get(e.v) ?? 0) + 1);
    const sorted = [...perVenue.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b, 0);
    expect(sorted.slice(0, 3).reduce((a, b) => a + b, 0) / total).toBeGreaterThan(0.3);
  });

  it('peaks near midnight and has everyone gone by the end of the night', () => {
    const trace = generateTrace({ seed: 5, users: 2000, venues, durationMs: 6 * 3_600_000, ordersPerUser: 0 });
    const hourOf = (t: number) => Math.floor(t / 3_600_000);
    const arrivals = [0, 0, 0, 0, 0, 0];
    const seen = new Set<number>();
    for (const e of trace.events) {
      if (e.e !== 'connect' || seen.has(e.u)) continue;
      seen.add(e.u);
      arrivals[hourOf(e.t)]!++;
    }
    const peak = arrivals.indexOf(Math.max(...arrivals));
    expect([2, 3]).toContain(peak); // 23:00–01:00
    expect(arrivals[5]).toBe(0);
    const last = trace.events.filter((e) => e.e !== 'quiesce' && e.e !== 'view').at(-1)!;
    expect(last.t).toBeLessThan(trace.header.durationMs);
  });

  it('includes every kind of traffic a night has', () => {
    const kinds = new Set(night(2).events.map((e) => (e.e === 'disconnect' ? `disconnect:${e.why}` : e.e)));
    for (const k of [
      'connect',
      'checkin',
      'heartbeat',
      'leave',
      'disconnect:kill',
      'disconnect:leave',
      'view',
      'order',
      'pay',
      'accept',
      'scan',
      'quiesce',
    ]) {
      expect(kinds, k).toContain(k);
    }
    expect([...kinds].some((k) => k === 'disconnect:background' || k === 'disconnect:network')).toBe(true);
  });

  it('checks users in within reach of the venue', () => {
    const trace = night(4);
    for (const e of trace.events) {
      if (e.e !== 'checkin') continue;
      const v = trace.header.venues[e.v]!;
      const dy = (e.lat - v.lat) * 111_320;
      const dx = (e.lng - v.lng) * 111_320 * Math.cos((v.lat * Math.PI) / 180);
      expect(Math.hypot(dx, dy)).toBeLessThan(300);
    }
  });
});

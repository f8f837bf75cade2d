import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRACE_FORMAT, TRACE_VERSION, type Trace, type TraceEvent } from '../../protocol/trace';
import { judgeQuiescePoint, type QuiesceVerdict } from '../../loadtest/judge';
import { PresenceModel } from '../../loadtest/presence-model';
import { replay } from '../../loadtest/replayer';
import { nodeTimingEnv } from '../../loadtest/run';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUsers, demoVenues } from '../helpers/users';

const SPEED = 60;
const night = { timeoutMs: 600_000, graceMs: 60_000 };
const env = nodeTimingEnv(SPEED, night);

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer(env, { label: 'keepalive', stores: 'embedded' });
}, 120_000);
afterAll(async () => ts?.close(), 60_000);

/**
 * Issue #14, "the judge is exact at every speed": at the default 60× the heartbeat timeout is 10 s,
 * and an ordinary checkpoint's settle wait may run longer (2 × (grace + close lag + settle) + 5 s).
 * Phones the trace keeps heartbeating must keep beating through the pause, as real phones do while
 * the judge looks: otherwise every one of them times out at the checkpoint, the judge (rightly, as the
 * model times them out too) compares an emptied city, and the rest of the night replays without them.
 */
describe('a checkpoint pause longer than the heartbeat timeout (embedded, 60×, no chaos)', () => {
  it('phones that go on heartbeating in the trace are still counted at and after the checkpoint', async () => {
    const ctx = ts.server.ctx;
    const v = (await demoVenues(ctx))[0]!;
    const ids = (await createUsers(ctx, 3, 'keepalive')).map((u) => ({ userId: u.id, token: u.token }));
    const Q = 600_000;
    const events: TraceEvent[] = [];
    for (let u = 0; u < 3; u++) {
      events.push({ t: 1_000 + u, e: 'connect', u });
      events.push({ t: 2_000 + u, e: 'checkin', u, v: 0, lat: v.latitude, lng: v.longitude, buy: false, recv: false });
    }
    // User 0 beats all night. Users 1 and 2 stall (socket open) at trace 60 s and 360 s: their timeouts
    // fall 1 s and 6 s (real) into the checkpoint's pause, and each makes the judge wait for it, so the
    // pause outlasts user 0's 10 s timeout unless user 0 goes on beating.
    const lastBeat = [1_170_000, 60_000, 360_000];
    for (let t = 30_000; t <= 1_170_000; t += 30_000)
      for (let u = 0; u < 3; u++) if (t <= lastBeat[u]!) events.push({ t, e: 'heartbeat', u });
    events.push({ t: Q, e: 'quiesce', q: 0 }, { t: 1_200_000, e: 'quiesce', q: 1 });
    events.sort((a, b) => a.t - b.t);
    const trace: Trace = {
      header: {
        kind: 'header',
        format: TRACE_FORMAT,
        version: TRACE_VERSION,
        seed: 0,
        startsAt: '21:00',
        durationMs: 1_200_000,
        users: 3,
        viewers: 0,
        venues: [{ id: v.id, slug: v.slug, lat: v.latitude, lng: v.longitude, staffEmail: `staff+${v.slug}@treatme.dev` }],
        heartbeatMs: 30_000,
        presenceTimeoutMs: night.timeoutMs,
        presenceGraceMs: night.graceMs,
        emailPattern: 'keepalive-{u}@loadtest.treatme.dev',
        events: events.length,
      },
      events,
    };
    const verdicts: QuiesceVerdict[] = [];
    const result = await replay({
      trace,
      urls: [ts.url],
      speed: SPEED,
      users: ids,
      staff: [undefined],
      timings: {
        timeoutMs: Number(env.PRESENCE_TIMEOUT_SECONDS) * 1000,
        graceMs: Number(env.PRESENCE_GRACE_SECONDS) * 1000,
        ttlMs: 4 * 3_600_000,
        settleMs: 2 * Number(env.SWEEP_INTERVAL_MS) + 250 + 1_000,
        closeLagMs: 2_000,
      },
      maxClients: 50,
      maxDurationMs: 90_000,
      orders: false,
      runId: `keepalive-${Date.now()}`,
      onQuiesce: async (q) => {
        verdicts.push(await judgeQuiescePoint(q));
      },
    });
    expect(result.aborted).toBeNull();
    expect(result.model).toBeInstanceOf(PresenceModel);
    expect(verdicts).toHaveLength(2);
    // The pause really outlasted the 10 s timeout: the stalled users made the judge wait.
    expect(verdicts[0]!.settledMs).toBeGreaterThan(Number(env.PRESENCE_TIMEOUT_SECONDS) * 1000);
    // Exact, and of the night the trace describes: user 0 is there at both checkpoints, the stalled ones are not.
    for (const q of verdicts) {
      expect(q.mismatches).toEqual([]);
      expect(q.expectedTotal).toBe(1);
    }
  }, 120_000);
});

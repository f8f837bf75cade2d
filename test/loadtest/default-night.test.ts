import { describe, expect, it } from 'vitest';
import { fastestExactSpeed, runLoadtest, speedProblem } from '../../loadtest/run';

/**
 * The load tester's default command (embedded, 60×) on a small night, three seeds in a row: a correct
 * server passes at the default speed, not only at 20× (issue #14: stalled phones were ended by their
 * stored lease before their heartbeat timeout). Each night is bounded by its replay's max duration.
 */
describe('the default load test, embedded, at 60×', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 40 people, 20 minutes of night, every count exact`, async () => {
      const outcome = await runLoadtest({
        users: 40,
        venues: 8,
        speed: 60,
        durationMs: 20 * 60_000,
        seed,
        quiescePoints: 3,
        nodes: 1,
        stores: 'embedded',
        orders: true,
        maxClients: 500,
        maxDurationMs: 60_000,
        progress: false,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      if (!outcome.verdict.pass) process.stderr.write(`${outcome.summary}\n`);
      expect(outcome.verdict.problems).toEqual([]);
      expect(outcome.verdict.quiesce).toHaveLength(3);
    }, 150_000);
  }

  it('refuses a speed it cannot judge exactly, up front, naming the fastest it can', async () => {
    expect(speedProblem(60)).toBeNull();
    expect(speedProblem(20)).toBeNull();
    expect(fastestExactSpeed()).toBe(60);
    expect(speedProblem(120)).toMatch(/grace period would be 0\.500 s.*fastest speed that can is 60×/);
    await expect(
      runLoadtest({
        users: 5,
        venues: 2,
        speed: 7,
        seed: 1,
        nodes: 1,
        stores: 'embedded',
        orders: false,
        maxClients: 50,
        maxDurationMs: 1_000,
        progress: false,
      }),
    ).rejects.toThrow(/--speed 7 cannot be judged exactly: the 600 s heartbeat timeout would be 85\.714 s/);
  });
});

import { inject, describe, expect, it } from 'vitest';
import { runLoadtest } from '../../loadtest/run';

/**
 * Issue #14, "a chaos replay (3 nodes, one SIGKILL) passes in CI, bounded": three real node processes on
 * PostgreSQL, DynamoDB Local and a Redis of the run's own; one node is SIGKILLed mid-night (a third of
 * its phones abandoned, the rest reconnecting to survivors) and Redis is killed and restarted later.
 * Every checkpoint after a fault must find every count exact, and the recovery must be measured.
 */
describe('a chaos night', () => {
  it('3 nodes, one SIGKILL, a Redis restart: every count exact again after each recovery window', async () => {
    const lines: string[] = [];
    const outcome = await runLoadtest({
      users: 45,
      venues: 6,
      speed: 60,
      durationMs: 30 * 60_000,
      seed: 4,
      quiescePoints: 4,
      nodes: 3,
      stores: 'real',
      orders: false,
      maxClients: 500,
      maxDurationMs: 100_000,
      postgresUrl: inject('postgresUrl'),
      dynamoEndpoint: inject('dynamoEndpoint'),
      chaos: true,
      chaosRedisDownMs: 3_000,
      progress: false,
      log: (line) => lines.push(line),
    });
    if (!outcome.verdict.pass) process.stderr.write(`${lines.join('\n')}\n${outcome.summary}\n`);
    process.stderr.write(
      `${outcome.summary
        .split('\n')
        .filter((l) => l.startsWith('chaos: '))
        .join('\n')}\n`,
    );
    expect(outcome.verdict.problems).toEqual([]);
    expect(outcome.verdict.quiesce).toHaveLength(4);
    const c = outcome.result.chaos!;
    expect(c.phones).toBeGreaterThan(0);
    expect(c.reconnected + c.abandoned).toBeLessThanOrEqual(c.phones);
    // Seed 4 leaves the killed node both kinds of phone: some reconnect, at least one must be reaped.
    expect(c.reconnected).toBeGreaterThan(0);
    expect(c.abandoned).toBeGreaterThan(0);
    // Exact again within the bound (NODE_LEASE_SECONDS 10 + 5 s), plus the probe's own cadence.
    expect(c.recoverySeconds).not.toBeNull();
    expect(c.recoverySeconds!).toBeLessThan(16);
    expect(c.restartedAfterSeconds).not.toBeNull();
    expect(c.redisRecoverySeconds).not.toBeNull();
    expect(outcome.summary).toMatch(/chaos: recovery \d+\.\d s from the kill until every count was exact/);
  }, 150_000);
});

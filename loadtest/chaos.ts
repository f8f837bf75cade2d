import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { metricValue } from './node-metrics';

/**
 * What `--chaos` does to a multi-node replay, at trace times so the same night always breaks at the
 * same moments: SIGKILL one node mid-night (restarted once the survivors have ended its stays), and
 * later kill the cluster's Redis and bring it back. The replayer plays the consequences for the phones
 * (see `abandonEvery`) and tells the model, so the judge knows what the counts must become.
 */
export interface ChaosOptions {
  /** Trace time of the SIGKILL and the node it hits. */
  killAtT: number;
  node: number;
  /** Trace time Redis is killed, and how long (real ms) it stays down. */
  redisAtT: number;
  redisDownMs: number;
  /** NODE_LEASE_SECONDS of the nodes, in ms. */
  leaseMs: number;
  /** The survivors must have ended the dead node's stays within this of the kill (issue #14: lease + 5 s). */
  reapWithinMs: number;
  /**
   * Of the killed node's phones, every `abandonEvery`-th (by user index) is abandoned: the app is
   * suspended in a pocket and does not reconnect until the trace next opens it, so its stay must end by
   * the survivors' reap. The others reconnect to a survivor after socket.io's reconnect delay, as the
   * app's client does, and keep their stays.
   */
  abandonEvery: number;
  /** How long to keep looking for exact counts after a fault before giving up (real ms). */
  probeLimitMs: number;
  kill(node: number): Promise<void>;
  restart(node: number): Promise<void>;
  redisKill(): Promise<void>;
  redisStart(): Promise<void>;
}

export interface ChaosReport {
  node: number;
  killedAtT: number;
  /** The killed node's user sockets at the kill. */
  phones: number;
  reconnected: number;
  abandoned: number;
  /** Stays the kill orphaned (phones at a venue), of which the abandoned ones must be ended by a survivor. */
  orphanedStays: number;
  /** Of those, still held by the dead node when the survivors had reaped it (the phones that never came back). */
  reaped: number;
  /** Seconds from the SIGKILL until every live node's counts were exact again (null: not within the probe limit). */
  recoverySeconds: number | null;
  /** The survivors' own figure (treatme_node_recovery_seconds: last lease renewal → last stay ended). */
  serverRecoverySeconds: number | null;
  /** Seconds from the SIGKILL until the restarted node was ready. */
  restartedAfterSeconds: number | null;
  redisKilledAtT: number | null;
  redisDownSeconds: number | null;
  /** Seconds from Redis coming back until every node was ready and every viewer agreed with its node again. */
  redisRecoverySeconds: number | null;
  notes: string[];
}

export function emptyChaosReport(o: ChaosOptions): ChaosReport {
  return {
    node: o.node,
    killedAtT: o.killAtT,
    phones: 0,
    reconnected: 0,
    abandoned: 0,
    orphanedStays: 0,
    reaped: 0,
    recoverySeconds: null,
    serverRecoverySeconds: null,
    restartedAfterSeconds: null,
    redisKilledAtT: null,
    redisDownSeconds: null,
    redisRecoverySeconds: null,
    notes: [],
  };
}

/**
 * Where the faults fall in a night of `durationMs` with quiesce points at q/Q of it: the kill just after
 * the first checkpoint, the Redis restart just after the second (or a quarter night after the kill when
 * there are fewer), so the next checkpoint after each fault judges the recovered cluster. Early in a
 * checkpoint's interval, because a checkpoint that must wait for a recovery window pauses the night
 * and a pause longer than the heartbeat timeout would time every phone out.
 */
export function chaosMoments(durationMs: number, quiescePoints: number): { killAtT: number; redisAtT: number } {
  const q = Math.max(1, quiescePoints);
  const at = (fraction: number) => Math.round(fraction * durationMs);
  if (q >= 3) return { killAtT: at(1 / q + 0.02), redisAtT: at(2 / q + 0.02) };
  if (q === 2) return { killAtT: at(0.52), redisAtT: at(0.77) };
  return { killAtT: at(0.3), redisAtT: at(0.6) };
}

export function chaosText(r: ChaosReport): string[] {
  const s = (x: number | null) => (x === null ? 'not within the probe limit' : `${x.toFixed(1)} s`);
  const lines = [
    `chaos: SIGKILL node${r.node} at trace ${(r.killedAtT / 60_000).toFixed(1)} min: ${r.phones} phones on it, ${r.reconnected} reconnected to survivors, ${r.abandoned} abandoned; ${r.orphanedStays} stays orphaned, ${r.reaped} ended by a survivor`,
    `chaos: recovery ${s(r.recoverySeconds)} from the kill until every count was exact (servers' own: ${r.serverRecoverySeconds === null ? 'not reported' : `${r.serverRecoverySeconds.toFixed(1)} s from the last lease renewal`}); node${r.node} back after ${s(r.restartedAfterSeconds)}`,
  ];
  if (r.redisKilledAtT !== null)
    lines.push(
      `chaos: Redis killed at trace ${(r.redisKilledAtT / 60_000).toFixed(1)} min, down ${s(r.redisDownSeconds)}; every node ready and every viewer exact ${s(r.redisRecoverySeconds)} after it returned`,
    );
  for (const n of r.notes) lines.push(`chaos: ${n}`);
  return lines;
}

/** The survivors' treatme_node_recovery_seconds, averaged over the reaps they reported (null: none yet). */
export async function serverRecoverySeconds(urls: string[]): Promise<number | null> {
  let sum = 0;
  let count = 0;
  for (const url of urls) {
    try {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      sum += metricValue(text, 'treatme_node_recovery_seconds_sum');
      count += metricValue(text, 'treatme_node_recovery_seconds_count');
    } catch {
      /* a node that is down reports nothing */
    }
  }
  return count > 0 ? sum / count : null;
}

export interface PrivateRedis {
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

/**
 * A Redis of this run's own (`redis-server` on its own port, no persistence): chaos kills and restarts
 * it, which must never happen to a Redis other people's nodes and tests use. A restart comes back empty,
 * as a cache node replaced after a crash does.
 */
export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const failed = new Promise<never>((_, rej) => proc!.once('error', (err) => rej(new Error(`redis-server: ${err.message}`))));
    await Promise.race([listening(port, 10_000), failed]);
  };
  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  const onExit = () => proc?.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    stop: async () => {
      process.off('exit', onExit);
      await kill();
    },
  };
}

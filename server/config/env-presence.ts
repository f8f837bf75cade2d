import { z } from 'zod';
import { int } from './env-fields';

/**
 * Stays and counts: timeouts and leases, coalescing and fan-out, the journal, the sweeper and the
 * repair loops, and the caches the venue answers read them through.
 */
export const presenceEnv = {
  PRESENCE_TIMEOUT_SECONDS: int(5, 86_400).default(600),
  PRESENCE_GRACE_SECONDS: int(0, 3_600).default(60),
  PRESENCE_TTL_SECONDS: int(60, 7 * 86_400).default(4 * 3_600),
  /**
   * How long the stored presence lease outlives the heartbeat timeout. Heartbeats are kept in the memory
   * of the node holding the socket; the lease only matters when that node dies, and bounds how long its
   * users stay counted then (timeout + this).
   */
  PRESENCE_LEASE_EXTRA_SECONDS: int(0, 86_400).default(300),
  /** A heartbeat renews the stored lease only when less than this is left (must exceed the clients' heartbeat interval). */
  PRESENCE_LEASE_REFRESH_SECONDS: int(1, 86_400).default(90),
  /**
   * `lease`: heartbeats live in the node's memory and reach the store only to renew the lease.
   * `every`: each heartbeat writes the stored expiry — the naive baseline benchmarks compare against.
   */
  PRESENCE_HEARTBEAT_WRITES: z.enum(['lease', 'every']).default('lease'),
  CHECKIN_MAX_DISTANCE_METERS: int(1, 100_000).default(300),
  COUNT_COALESCE_MS: int(0, 10_000).default(250),
  /** A node publishes its count and people changes to the other nodes at most once per this window (one Redis publish). */
  FANOUT_PUBLISH_WINDOW_MS: int(0, 10_000).default(50),
  /**
   * The durable presence journal gathers changes this long and writes them in one statement: also the
   * most a crash can lose before the rebuild repairs it.
   */
  PRESENCE_JOURNAL_FLUSH_MS: int(10, 60_000).default(200),
  /** Users with a durable change waiting; past it changes are dropped (metric + log) and left to the rebuild. */
  PRESENCE_JOURNAL_MAX_PENDING: int(100, 10_000_000).default(100_000),
  /** Rebuild of the durable presence rows from the presence store: at start-up, then this often (0: start-up only). */
  PRESENCE_JOURNAL_REBUILD_INTERVAL_MS: int(0, 86_400_000).default(600_000),
  SWEEP_INTERVAL_MS: int(100, 3_600_000).default(5_000),
  /**
   * Each node renews a lease this long (DynamoDB in cluster mode, so a Redis outage is no alarm); when it
   * lapses, a survivor ends the stays whose sockets that node held. A dead node's guests are out within
   * about this plus 2 s, whatever PRESENCE_TIMEOUT_SECONDS; a node stalled for less than 3/4 of it keeps them.
   */
  NODE_LEASE_SECONDS: int(2, 600).default(10),
  /** Safety net: each node re-reads the counts its viewers watch this often and sends any a lost broadcast left stale. */
  COUNT_RESYNC_INTERVAL_MS: int(500, 3_600_000).default(5_000),
  RECONCILE_INTERVAL_MS: int(1_000, 86_400_000).default(60_000),
  /**
   * How often each node re-reads the people lists its sockets show, to repair a lost venue:people
   * message. Live changes (including expiries) are pushed as they happen; this is only the safety net,
   * and it costs one index query per watched venue per node.
   */
  PEOPLE_RESYNC_INTERVAL_MS: int(500, 3_600_000).default(10_000),

  /** Nearest-venue query results (PostgreSQL part only) are cached this long; 0 disables the cache. */
  VENUES_CACHE_SECONDS: int(0, 86_400).default(300),
  /**
   * `memory`: venue answers take counts from the node's count table, friends from the per-node friend
   * cache and presence directory, and venue details from prebuilt JSON. `per-request`: every answer reads
   * counts and friends' presence from the store and friends from PostgreSQL and re-serialises the venues
   * (the previous code, kept as the benchmark's baseline, not for production).
   */
  VENUES_READS: z.enum(['memory', 'per-request']).default('memory'),
  /** A caller's cached friend list is reloaded after this even without an invalidation (a lost one, a renamed friend). */
  FRIENDS_CACHE_SECONDS: int(1, 86_400).default(60),
};

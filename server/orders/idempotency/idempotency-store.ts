/**
 * Remembers what a request carrying an `Idempotency-Key` answered, so a double-clicked "buy", a phone
 * retrying after a timeout or a load balancer replaying a request charges once. DynamoDB backs it in
 * cluster mode (every node sees every key); a Map does in embedded mode. Both honour the same rules,
 * checked by one contract suite (test/orders/idempotency-store.test.ts):
 *
 * - the first `begin` of a key takes it (`started`) and holds a lease while the request runs;
 * - a `begin` while that lease lives is `in_progress` (HTTP 409), with a different body `mismatch` (422);
 * - after `complete`, the same body gets the stored answer (`replay`), a different one `mismatch`;
 * - `release` (the attempt failed) frees the key, so a retry runs afresh;
 * - a lease that outlives its holder (the node died mid-request) can be taken over once it lapses;
 *   that is safe because order creation is itself idempotent per (buyer, key) in PostgreSQL.
 * Records vanish after `ttlMs` (one hour by default, as the seed's idempotency table).
 */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export type BeginResult =
  { kind: 'started' } | { kind: 'replay'; response: StoredResponse } | { kind: 'in_progress' } | { kind: 'mismatch' };

export interface IdempotencyTimings {
  /** How long a finished answer is kept. */
  ttlMs: number;
  /** How long a running request holds its key before another attempt may take over. */
  leaseMs: number;
}

export interface IdempotencyStore {
  begin(key: string, fingerprint: string, now: number): Promise<BeginResult>;
  /** Stores the answer; only the holder (same fingerprint) can. */
  complete(key: string, fingerprint: string, response: StoredResponse, now: number): Promise<void>;
  /** Drops an unfinished key so a retry can run; a finished one is kept. */
  release(key: string, fingerprint: string): Promise<void>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_IDEMPOTENCY_TIMINGS: IdempotencyTimings = { ttlMs: 3_600_000, leaseMs: 60_000 };

import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';
import { cancellationReasons, isTransactionInFlight } from '../storage/dynamo-errors';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** One user's membership change: its presence-table items and the counter deltas they imply. */
export interface MembershipWrite {
  /** A transaction may not touch an item twice: one write per user per transaction. */
  userId: string;
  items: TransactItem[];
  deltas: [venueId: string, delta: number][];
  /** The caller's clock: the counters' updatedAt is the latest of a batch's. */
  now: number;
}

export interface WriteBatcherOptions {
  /** Sends one TransactWriteItems; throws DynamoDB's error (TransactionCanceledException…) as is. */
  send(items: TransactItem[]): Promise<void>;
  /** The counter update for a venue's merged delta, on the shard of in-flight slot `slot`. */
  counterOp(venueId: string, delta: number, slot: number, now: number, changes: number): TransactItem;
  /** How long the first write after a quiet moment waits for company (0: the next turn of the event loop). */
  windowMs: number;
  /** Transactions in flight at once; each uses its own counter shard, so they do not contend with each other. */
  maxInFlight: number;
  /** Attempts of one write before it fails with CONFLICT (other transactions kept cancelling it). */
  maxAttempts: number;
  /** DynamoDB's limit on the items of one transaction (100). */
  maxItems?: number;
  /** Each committed transaction: how many writes it carried. */
  onCommit?(writes: number, items: number): void;
  /** Each write's wait from submit to the send of its (first) transaction, in ms: the window's cost to the ack. */
  onWait?(ms: number): void;
}

interface Pending {
  write: MembershipWrite;
  attempts: number;
  queuedAt: number;
  resolve(ok: boolean): void;
  reject(err: unknown): void;
}

/**
 * Group commit of membership changes. Writes queue for `windowMs` (or while every slot has a
 * transaction in flight) and go out together: many users' check-ins, moves and leaves in one
 * TransactWriteItems, with the counter deltas of each venue merged into one update (one item per venue,
 * since a transaction may not touch one twice). Exactness is unchanged: every user's items keep their own
 * conditions, and the whole transaction commits or nothing does.
 *
 * A cancelled transaction says which item failed (CancellationReasons, in item order). A write whose own
 * condition failed resolves `false` (its caller re-reads and decides again); the others were refused only
 * for its sake, or for a conflict with another transaction, and are sent again in the next one.
 */
export class WriteBatcher {
  private readonly queue: Pending[] = [];
  private readonly freeSlots: number[];
  private timer: NodeJS.Timeout | undefined;
  private readonly maxItems: number;

  constructor(private readonly o: WriteBatcherOptions) {
    this.maxItems = o.maxItems ?? 100;
    this.freeSlots = Array.from({ length: Math.max(1, o.maxInFlight) }, (_, i) => i);
  }

  /** Resolves true once committed, false when the write's own condition failed (nothing of it was written). */
  submit(write: MembershipWrite): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ write, attempts: 0, queuedAt: performance.now(), resolve, reject });
      this.schedule(this.o.windowMs);
    });
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.queue.length === 0 || this.freeSlots.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delayMs);
  }

  private take(): Pending[] {
    const batch: Pending[] = [];
    const users = new Set<string>();
    const venues = new Set<string>();
    let items = 0;
    for (let i = 0; i < this.queue.length;) {
      const p = this.queue[i]!;
      const newVenues = p.write.deltas.filter(([v]) => !venues.has(v)).length;
      if (users.has(p.write.userId) || items + p.write.items.length + venues.size + newVenues > this.maxItems) {
        // Left for the next transaction (a second write of the same user keeps its place in line).
        if (items + venues.size >= this.maxItems) break;
        i++;
        continue;
      }
      users.add(p.write.userId);
      for (const [v] of p.write.deltas) venues.add(v);
      items += p.write.items.length;
      batch.push(p);
      this.queue.splice(i, 1);
    }
    return batch;
  }

  private flush(): void {
    while (this.freeSlots.length > 0 && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return;
      const slot = this.freeSlots.shift()!;
      void this.run(batch, slot).finally(() => {
        this.freeSlots.push(slot);
        // What queued while this one flew goes at once: the transaction's own duration was its window.
        if (this.queue.length > 0 && !this.timer) this.flush();
      });
    }
  }

  private async run(batch: Pending[], slot: number): Promise<void> {
    // Per venue: the summed delta, and how many changes it carries (the version still counts each one).
    const deltas = new Map<string, { delta: number; changes: number }>();
    for (const p of batch) {
      for (const [v, d] of p.write.deltas) {
        const m = deltas.get(v) ?? { delta: 0, changes: 0 };
        m.delta += d;
        m.changes++;
        deltas.set(v, m);
      }
    }
    if (this.o.onWait) {
      const t = performance.now();
      for (const p of batch) if (p.attempts === 0) this.o.onWait(t - p.queuedAt);
    }
    const now = Math.max(...batch.map((p) => p.write.now));
    const items = [
      ...batch.flatMap((p) => p.write.items),
      ...[...deltas].map(([v, m]) => this.o.counterOp(v, m.delta, slot, now, m.changes)),
    ];
    try {
      await this.o.send(items);
      this.o.onCommit?.(batch.length, items.length);
      for (const p of batch) p.resolve(true);
      return;
    } catch (err) {
      const reasons =
        cancellationReasons(err) ??
        (isTransactionInFlight(err) ? batch.flatMap((p) => p.write.items.map(() => 'TransactionConflict')) : undefined);
      if (reasons === undefined) {
        for (const p of batch) p.reject(err);
        return;
      }
      let conflicted = false;
      const retry: Pending[] = [];
      let at = 0;
      for (const p of batch) {
        const own = reasons.slice(at, at + p.write.items.length);
        at += p.write.items.length;
        if (own.includes('ConditionalCheckFailed')) p.resolve(false);
        else if (own.some((c) => c !== 'None' && c !== 'TransactionConflict' && c !== 'ConditionalCheckFailed')) p.reject(err);
        else {
          if (own.includes('TransactionConflict')) conflicted = true;
          retry.push(p);
        }
      }
      if (reasons.slice(at).some((c) => c !== 'None')) conflicted = true;
      const again: Pending[] = [];
      for (const p of retry) {
        p.attempts++;
        if (conflicted && p.attempts >= this.o.maxAttempts) {
          p.reject(
            new AppError(
              ErrorCode.CONFLICT,
              `Presence changed concurrently; a write of ${p.write.userId} gave up after ${p.attempts} attempts`,
              { cause: err },
            ),
          );
        } else again.push(p);
      }
      // Back in line at the front, in their order; after a conflict, a short random pause first.
      this.queue.unshift(...again);
      if (conflicted && again.length > 0 && !this.timer) {
        this.timer = setTimeout(
          () => {
            this.timer = undefined;
            this.flush();
          },
          Math.random() * Math.min(200, 5 * 2 ** Math.min(again[0]!.attempts, 6)),
        );
      }
    }
  }
}

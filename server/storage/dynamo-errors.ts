import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';

/**
 * How the DynamoDB stores (presence, idempotency) tell DynamoDB's refusals apart: a condition that
 * failed (someone changed the item first: re-read and decide again) from a transaction that met
 * another one in flight (try the same again after a pause), whether they come as a single-item error
 * or as a cancelled transaction's reasons. By name, not `instanceof`: the document client and the
 * plain client may come from different copies of the SDK.
 */

/** The per-item codes of a cancelled transaction, in item order; undefined for any other error (or a cancellation naming none). */
export function cancellationReasons(err: unknown): string[] | undefined {
  if (!isCancelledTransaction(err)) return undefined;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return reasons?.map((r) => r.Code ?? 'None');
}

export function cancellationCodes(err: unknown): string[] {
  return cancellationReasons(err) ?? [];
}

export function isCancelledTransaction(err: unknown): boolean {
  return err instanceof Error && err.name === 'TransactionCanceledException';
}

export function isConditionFailure(err: unknown): boolean {
  if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return true;
  return cancellationCodes(err).includes('ConditionalCheckFailed');
}

/** The whole request met another transaction in flight (a cancelled transaction says so per item instead). */
export function isTransactionInFlight(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TransactionConflictException' || err.name === 'TransactionInProgressException');
}

export function isConflict(err: unknown): boolean {
  return isTransactionInFlight(err) || cancellationCodes(err).includes('TransactionConflict');
}

/** A random pause before attempt `attempt + 1`, growing with the attempts, at most 200 ms. */
export function jitter(attempt: number): number {
  return Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A step's answer "lost a race against another writer": pause, then run the step again. */
export const AGAIN = Symbol('again');
/** "What I went by was only a remembered copy, now known stale": run again at once (the step re-reads). */
export const AGAIN_NOW = Symbol('again now');
export type Again = typeof AGAIN | typeof AGAIN_NOW;

export interface RaceRetry {
  /** Attempts before giving up (each AGAIN, and each error `isRace` accepts, is one). */
  maxAttempts: number;
  /** Starts the CONFLICT error's message when it gives up: "<what> gave up after <n> attempts". */
  what: string;
  /** Errors the step may throw that mean "lost a race" (like AGAIN); any other error goes to the caller. */
  isRace?: (err: unknown) => boolean;
}

/**
 * Runs `step` until it returns a value: the read-then-conditional-write loop every DynamoDB store
 * needs, since a condition that failed or a transaction that met another one only says "someone got
 * there first". Pauses are random and growing (jitter) so that racing writers spread out; after
 * `maxAttempts` races the caller gets CONFLICT (the client may try again) rather than a loop forever.
 */
export async function retryOnRace<T>(opts: RaceRetry, step: (attempt: number) => Promise<T | Again>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let out: T | Again;
    try {
      out = await step(attempt);
    } catch (err) {
      if (!opts.isRace?.(err)) throw err;
      if (attempt >= opts.maxAttempts) throw giveUp(opts, attempt, err);
      await sleep(jitter(attempt));
      continue;
    }
    if (out === AGAIN_NOW) continue;
    if (out !== AGAIN) return out;
    if (attempt >= opts.maxAttempts) throw giveUp(opts, attempt);
    await sleep(jitter(attempt));
  }
}

function giveUp(opts: RaceRetry, attempt: number, cause?: unknown): AppError {
  return new AppError(ErrorCode.CONFLICT, `${opts.what} gave up after ${attempt} attempts`, cause === undefined ? undefined : { cause });
}

/**
 * How the presence store tells DynamoDB's refusals apart: a condition that failed (someone changed the
 * item first: re-read and decide again) from a transaction that met another one in flight (try the same
 * again after a pause), whether they come as a single-item error or as a cancelled transaction's reasons.
 */

export function cancellationCodes(err: unknown): string[] {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return [];
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

export function isConditionFailure(err: unknown): boolean {
  if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return true;
  return cancellationCodes(err).includes('ConditionalCheckFailed');
}

export function isConflict(err: unknown): boolean {
  if (err instanceof Error && (err.name === 'TransactionConflictException' || err.name === 'TransactionInProgressException')) return true;
  return cancellationCodes(err).includes('TransactionConflict');
}

/** A random pause before attempt `attempt + 1`, growing with the attempts, at most 200 ms. */
export function jitter(attempt: number): number {
  return Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

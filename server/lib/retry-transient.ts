import { AppError } from '../errors';

/**
 * Runs `op` again after a failure that is not a decision (an `AppError` is one: a refused transition, a
 * conflict): a transaction that timed out waiting for a pooled connection or a lock, a dropped
 * connection. For writes that must land because something irreversible already happened (money
 * captured), where giving up at the first busy moment would leave the two stores disagreeing.
 */
export async function retryTransient<T>(
  op: () => Promise<T>,
  onRetry: (err: unknown, attempt: number) => void,
  delaysMs: readonly number[] = [100, 400, 1_600],
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (err instanceof AppError || attempt >= delaysMs.length) throw err;
      onRetry(err, attempt + 1);
      await new Promise((resolve) => setTimeout(resolve, delaysMs[attempt]));
    }
  }
}

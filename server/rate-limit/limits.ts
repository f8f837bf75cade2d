// The limit types on their own: the context holds the built limits, and the builder needs the context.
export interface LimitSpec {
  /** Distinct per limit: it namespaces the counters. */
  name: string;
  points: number;
  durationSeconds: number;
}

export interface Limiter {
  /** Spends `points` for `key`; throws 429 RATE_LIMITED with Retry-After when the budget is gone. */
  consume(key: string, points?: number): Promise<void>;
  /** Forgets `key`'s spending (e.g. after a successful sign-in). */
  reset(key: string): Promise<void>;
}

export interface RateLimits {
  /** Sign-in, codes and refresh, per client IP. */
  authIp: Limiter;
  /** Any write, per signed-in user. */
  userWrites: Limiter;
  /** One code per destination per resend window. */
  codeResend: Limiter;
  codeHourly: Limiter;
}

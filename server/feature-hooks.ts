import { Hooks } from './lib/hooks';
import type { Logger } from './observability/logger';

/** What one feature tells others, by name; each hook documents when it fires and what it carries. */
export interface FeatureEvents {
  /**
   * A block between two users was made or lifted (`userId` acted, `otherId` is the other party);
   * fired once the block row is written. The venue people list re-filters what each sees now.
   */
  blockChanged: [userId: string, otherId: string];
}

export type FeatureHooks = Hooks<FeatureEvents>;

export function createFeatureHooks(logger: Logger): FeatureHooks {
  return new Hooks<FeatureEvents>((err, hook) => logger.warn({ err, hook }, 'feature hook failed'));
}

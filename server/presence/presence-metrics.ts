import { Counter, type Registry } from 'prom-client';

export interface PresenceMetrics {
  /** +1 per venue counter the reconciler found wrong and repaired (no venue label: unbounded series). */
  driftRepaired: Counter;
}

const DRIFT = 'treatme_presence_drift_repaired_total';

/**
 * Metrics take an explicit Registry (main.ts passes the one /metrics serves; tests pass a fresh one),
 * so several instances or test files in one process never collide on prom-client's global register.
 * Asking twice with the same registry returns the same metrics.
 */
export function createPresenceMetrics(registry: Registry): PresenceMetrics {
  const existing = registry.getSingleMetric(DRIFT);
  if (existing) return { driftRepaired: existing as Counter };
  return {
    driftRepaired: new Counter({
      name: DRIFT,
      help: 'Venue counters the presence reconciler found different from the recorded presences and repaired',
      registers: [registry],
    }),
  };
}

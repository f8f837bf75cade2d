import { Router } from 'express';
import type { ReadinessCheck } from '../context';

const CHECK_TIMEOUT_MS = 2_000;

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness says the process answers; readiness says every configured store answers too. */
export function healthRoutes(checks: ReadinessCheck[], isDraining: () => boolean): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.check(), CHECK_TIMEOUT_MS);
          return [c.name, { ok: true }] as const;
        } catch (err) {
          return [c.name, { ok: false, error: err instanceof Error ? err.message : String(err) }] as const;
        }
      }),
    );
    const ok = !isDraining() && results.every(([, r]) => r.ok);
    res
      .status(ok ? 200 : 503)
      .json({ status: ok ? 'ready' : isDraining() ? 'draining' : 'unavailable', checks: Object.fromEntries(results) });
  });
  return router;
}

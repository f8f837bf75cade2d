import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * REST CORS exactly per CORS_ORIGINS. `*` lets any page read public answers but never with credentials
 * (a browser would otherwise send cookies or auth to any site's script); a list reflects only listed
 * origins, with credentials, and gives any other origin no CORS headers at all, so its browser refuses.
 */
export function corsPolicy(origins: '*' | string[]): RequestHandler {
  const common = {
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
    exposedHeaders: ['Retry-After', 'Idempotent-Replayed'],
    maxAge: 600,
  };
  if (origins === '*') return cors({ ...common, origin: '*', credentials: false });
  const allowed = new Set(origins);
  return cors({ ...common, origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)), credentials: true });
}

import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export interface PublicMetricsSettings {
  /** METRICS_TOKEN: the bearer token that opens /metrics on the public port. */
  token: string | undefined;
  /** METRICS_PORT is set: /metrics has its own port and the public one does not serve it. */
  ownPort: boolean;
  devMode: boolean;
}

/** Where /metrics is reachable: its own port, the public port behind a token, or (dev mode only) the public port. */
export function publicMetricsAccess(s: PublicMetricsSettings): 'token' | 'open' | 'none' {
  if (s.token) return 'token';
  if (s.ownPort || !s.devMode) return 'none';
  return 'open';
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** The /metrics route on the public app; answers 404 (like any unknown route) when it is not served there. */
export function publicMetricsRoute(s: PublicMetricsSettings, metrics: Metrics): RequestHandler {
  const access = publicMetricsAccess(s);
  return async (req, res, next) => {
    if (access === 'none') return next();
    if (access === 'token' && !tokenMatches(req.get('authorization'), s.token!)) {
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'Metrics need the bearer token', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

/** METRICS_PORT: a plain HTTP server that serves only /metrics, for a scraper on the private network. */
export async function startMetricsServer(
  port: number,
  host: string,
  metrics: Metrics,
  logger: Logger,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: ErrorCode.NOT_FOUND, message: 'Only /metrics is served here' } }));
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res());
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ port: bound }, 'metrics served on their own port');
  return { server, port: bound };
}

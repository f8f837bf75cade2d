import express, { type Express, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import type { AppContext } from '../context';
import type { TrustProxy } from './client-address';
import { corsPolicy } from './cors-policy';
import { errorMiddleware, notFound } from './error-middleware';
import { healthRoutes } from './health-routes';
import { publicMetricsRoute, type PublicMetricsSettings } from './metrics-endpoint';
import { limitJsonDepth, requireJsonBody } from './request-guards';

declare module 'http' {
  interface IncomingMessage {
    /** The exact bytes of a JSON body: Stripe signs these, not our re-serialisation. */
    rawBody?: Buffer;
  }
}

export const JSON_BODY_LIMIT = '64kb';

const requestLine = (req: { method?: string; originalUrl?: string; url?: string }, res: { statusCode: number }, ms: number) =>
  `${req.method} ${req.originalUrl ?? req.url} ${res.statusCode} ${Math.round(ms)}ms`;
const requestLineMessages = {
  customSuccessMessage: requestLine,
  customErrorMessage: (req: { method?: string; originalUrl?: string; url?: string }, res: { statusCode: number }, err: Error) =>
    `${req.method} ${req.originalUrl ?? req.url} ${res.statusCode} ${err.message}`,
};

export interface HttpAppSettings {
  trustProxy: TrustProxy;
  corsOrigins: '*' | string[];
  /** Request lines in the message, for pretty logs. */
  prettyLogs: boolean;
  metrics: PublicMetricsSettings;
}

export function createHttpApp(ctx: AppContext, settings: HttpAppSettings, routers: Router[], isDraining: () => boolean): Express {
  const app = express();
  app.disable('x-powered-by');
  // Only the proxies TRUST_PROXY names may speak for the client: otherwise any X-Forwarded-For would
  // pick the address rate limits count and audit rows record.
  app.set('trust proxy', settings.trustProxy);
  app.use(
    pinoHttp({
      logger: ctx.logger,
      // Probes hit these every few seconds; a log line each would drown the useful ones.
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/ready' || req.url === '/metrics' },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      // Pretty mode: the whole request on one line; JSON keeps pino-http's default message and fields.
      ...(settings.prettyLogs ? requestLineMessages : {}),
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
    }),
  );
  app.use((req, res, next) => {
    const end = ctx.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ route });
      ctx.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });
  app.use(corsPolicy(settings.corsOrigins));
  app.use(requireJsonBody);
  app.use(
    express.json({
      limit: JSON_BODY_LIMIT,
      verify: (req, _res, buf) => {
        req.rawBody = buf;
      },
    }),
  );
  app.use(limitJsonDepth);
  app.use(healthRoutes(ctx.readiness, isDraining));
  app.get('/metrics', publicMetricsRoute(settings.metrics, ctx.metrics));
  for (const router of routers) app.use(router);
  app.use(notFound);
  app.use(errorMiddleware(ctx.logger));
  return app;
}

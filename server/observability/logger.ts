import pino, { type Logger } from 'pino';

export type { Logger };

export interface LogSettings {
  level: string;
  /** One human-readable line per entry instead of JSON lines (see `prettyLogs`). */
  pretty: boolean;
  nodeId: string;
}

/** Pretty only when a person is watching a terminal (or asked for it); otherwise JSON lines for machines. */
export const prettyLogs = (format: 'json' | 'pretty' | undefined): boolean =>
  format ? format === 'pretty' : Boolean(process.stdout.isTTY);

/**
 * Pretty mode prints one line per entry: request lines carry their facts in the message (see http-app),
 * so their req/res objects are left out there; JSON lines keep every field.
 */
export function createLogger(settings: LogSettings): Logger {
  return pino({
    level: settings.level,
    base: { node: settings.nodeId },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'token', 'refreshToken', 'code'], remove: true },
    ...(settings.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss.l', singleLine: true, ignore: 'pid,hostname,node,req,res,responseTime' },
          },
        }
      : {}),
  });
}

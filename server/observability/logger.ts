import pino, { type Logger } from 'pino';
import type { Config } from '../config/config';

export type { Logger };

type LogConfig = Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT' | 'nodeId'>;

/** Pretty only when a person is watching a terminal (or asked for it); otherwise JSON lines for machines. */
export const prettyLogs = (config: Pick<Config, 'LOG_FORMAT'>): boolean =>
  config.LOG_FORMAT ? config.LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY);

/**
 * Pretty mode prints one line per entry: request lines carry their facts in the message (see http-app),
 * so their req/res objects are left out there; JSON lines keep every field.
 */
export function createLogger(config: LogConfig): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { node: config.nodeId },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'token', 'refreshToken', 'code'], remove: true },
    ...(prettyLogs(config)
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss.l', singleLine: true, ignore: 'pid,hostname,node,req,res,responseTime' },
          },
        }
      : {}),
  });
}

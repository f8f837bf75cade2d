import pino, { type Logger } from 'pino';
import type { Config } from '../config/config';

export type { Logger };

/** JSON lines for machines; pretty only when a person is watching a terminal (or asked for it). */
export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT' | 'nodeId'>): Logger {
  const pretty = config.LOG_FORMAT ? config.LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY);
  return pino({
    level: config.LOG_LEVEL,
    base: { node: config.nodeId },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'token', 'refreshToken', 'code'], remove: true },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } } } : {}),
  });
}

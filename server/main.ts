import { ConfigError, loadConfig } from './config/config';
import { buildServer } from './build-server';

/** Process entry: config → server → signals. Exits non-zero with one readable message on bad config. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const server = await buildServer(config);
  const { logger } = server.ctx;
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
  const port = await server.listen();
  logger.info({ port, mode: config.mode }, `TreatMe live server listening on http://localhost:${port}`);

  const stop = (signal: string) => {
    const deadline = setTimeout(() => {
      logger.error({ signal }, `shutdown exceeded ${config.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    server.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`TreatMe failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

import { resolve } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config/config';
import { buildServer, type RunningServer } from './build-server';
import { startupBanner } from './process/startup-banner';
import { staffAccounts } from './demo/staff-accounts';
import { DataDirLockedError, lockDataDir } from './process/data-dir-lock';
import { prettyLogs } from './observability/logger';
import type { DemoCrowd } from './demo/demo-crowd';

/** Exit codes a process manager or script can tell apart. */
export const ExitCode = { config: 2, dataDirLocked: 3, portInUse: 4 } as const;

/** `npm run demo` = `npm start --demo`: a crowd of 40 unless DEMO_CROWD says otherwise. */
const DEMO_DEFAULT_GUESTS = '40';

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Process entry: config → data-folder lock → server → signals. Exits non-zero with one readable message. */
async function main(): Promise<void> {
  const demo = process.argv.includes('--demo');
  let config: Config;
  try {
    config = loadConfig(demo ? { ...process.env, DEMO_CROWD: process.env.DEMO_CROWD || DEMO_DEFAULT_GUESTS } : process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(ExitCode.config, err.message);
    throw err;
  }
  if (config.mode === 'embedded' && !config.PGLITE_IN_MEMORY) {
    try {
      lockDataDir(`${resolve(config.PGLITE_DATA_DIR)}.lock`);
    } catch (err) {
      if (err instanceof DataDirLockedError) {
        fail(
          ExitCode.dataDirLocked,
          `TreatMe refused to start: ${err.message}.\n` +
            `Stop that server first, or give this one its own folder (DATA_DIR=.data-other) or no folder (PGLITE_IN_MEMORY=true).`,
        );
      }
      throw err;
    }
  }

  const server = await buildServer(config);
  const { logger } = server.ctx;
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
  let port: number;
  try {
    port = await server.listen();
  } catch (err) {
    await server.shutdown('listen failed').catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      fail(
        ExitCode.portInUse,
        `TreatMe could not listen: port ${config.PORT} on ${config.HOST} is already in use. Stop whatever holds it, or choose another port with PORT=${config.PORT + 1}.`,
      );
    }
    throw err;
  }

  let crowd: DemoCrowd | undefined;
  if (config.DEMO_CROWD > 0) {
    // Loaded only for the demo: production images need none of it.
    const { startDemoCrowd } = await import('./demo/demo-crowd');
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
    crowd = await startDemoCrowd({
      baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      guests: config.DEMO_CROWD,
      center: { lat: config.CITY_CENTER_LAT, lng: config.CITY_CENTER_LNG },
      prisma: server.ctx.db.prisma,
      tokens: server.ctx.tokens,
      logger,
    });
  }
  const staff = config.devMode ? await staffAccounts(server.ctx.db.prisma) : [];
  const banner = startupBanner({ port, mode: config.mode, devMode: config.devMode, demoGuests: crowd?.guests ?? 0, staff });
  if (prettyLogs(config.LOG_FORMAT)) process.stdout.write(`${banner.text}\n`);
  logger.info(banner.fields, `TreatMe live server listening on http://localhost:${port}`);

  const stop = (signal: string) => {
    const deadline = setTimeout(() => {
      logger.error({ signal }, `shutdown exceeded ${config.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    drain(server, crowd, signal).then(
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

async function drain(server: RunningServer, crowd: DemoCrowd | undefined, signal: string): Promise<void> {
  await crowd?.stop();
  await server.shutdown(signal);
}

main().catch((err: unknown) => {
  process.stderr.write(`TreatMe failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

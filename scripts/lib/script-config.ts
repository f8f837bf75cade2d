import { ConfigError, loadConfig, type Config } from '../../server/config/config';

/**
 * The server's configuration for an operator script, or undefined (the problems printed) when it is
 * invalid. Such scripts sign nothing, so the cluster-mode JWT_SECRET requirement must not stop them.
 */
export function scriptConfig(): Config | undefined {
  try {
    return loadConfig({ ...process.env, JWT_SECRET: process.env.JWT_SECRET || 'x'.repeat(32) });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Invalid configuration: ${err.problems.join('; ')}`);
      return undefined;
    }
    throw err;
  }
}

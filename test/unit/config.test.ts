import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config/config';

describe('configuration', () => {
  it('selects a complete embedded server when nothing is set', () => {
    const c = loadConfig({});
    expect(c.mode).toBe('embedded');
    expect(c.devMode).toBe(true);
    expect(c.seedDemoData).toBe(true);
    expect(c.dynamo).toBeUndefined();
    expect(c.stripe).toBeUndefined();
    expect(c.PORT).toBe(3000);
    expect(c.PRESENCE_TIMEOUT_SECONDS).toBe(600);
    expect(c.PRESENCE_GRACE_SECONDS).toBe(60);
    expect(c.DYNAMODB_TABLE_PREFIX).toBe('clubapp-dev-');
  });

  it('switches each part to the real service its variable names', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://u@db:5432/x',
      REDIS_URL: 'redis://r:6379',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      JWT_SECRET: 'x'.repeat(40),
    });
    expect(c.mode).toBe('cluster');
    expect(c.devMode).toBe(false);
    expect(c.dynamo).toEqual({ endpoint: 'http://127.0.0.1:8000', region: 'us-east-1', tablePrefix: 'clubapp-dev-' });
  });

  it('lists every bad variable in one error', () => {
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: 'not a url', TREATME_MODE: 'galaxy', PORT: '99999', REDIS_URL: 'http://x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    for (const name of ['DATABASE_URL', 'TREATME_MODE', 'PORT', 'REDIS_URL']) expect(msg).toContain(name);
    expect((err as ConfigError).problems).toHaveLength(4);
  });

  it('requires every service in cluster mode and a shared JWT secret outside dev mode', () => {
    expect(() => loadConfig({ TREATME_MODE: 'cluster' })).toThrow(/DATABASE_URL[\s\S]*REDIS_URL[\s\S]*DYNAMODB_ENDPOINT/);
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://db/x' })).toThrow(/JWT_SECRET/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REDIS_URL: '  ' }).mode).toBe('embedded');
  });

  it('keeps everything embedded mode writes in one DATA_DIR, and honours PGLITE_DATA_DIR as before', () => {
    expect(loadConfig({})).toMatchObject({ dataDir: '.data', PGLITE_DATA_DIR: '.data/pglite' });
    expect(loadConfig({ DATA_DIR: '/srv/treatme' })).toMatchObject({ dataDir: '/srv/treatme', PGLITE_DATA_DIR: '/srv/treatme/pglite' });
    // Only PGLITE_DATA_DIR (earlier versions): its parent stays the data folder, so an existing
    // jwt-secret beside it is still found and sessions survive the upgrade.
    expect(loadConfig({ PGLITE_DATA_DIR: '/var/lib/tm/db' })).toMatchObject({ dataDir: '/var/lib/tm', PGLITE_DATA_DIR: '/var/lib/tm/db' });
    expect(loadConfig({ DATA_DIR: '/d', PGLITE_DATA_DIR: '/elsewhere/db' })).toMatchObject({
      dataDir: '/d',
      PGLITE_DATA_DIR: '/elsewhere/db',
    });
  });
});

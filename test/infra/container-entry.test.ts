import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_PASSWORD_EXCLUDED, ENTRY_POINT } from '../../infra/container-entry';
import { loadConfig } from '../../server/config/config';

// The entry point the task definitions run, executed here with the same POSIX sh (Debian's dash, as in
// node:20-slim) and a stand-in for the server command that prints what the server would see.
const scratch = mkdtempSync(join(tmpdir(), 'treatme-entry-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PRINT_ENV = [process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'];
const BASE_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  DB_USER: 'treatme',
  DB_PASSWORD: 'p4ss-w.rd_X',
  DB_HOST: 'db.internal',
  DB_PORT: '5432',
  DB_NAME: 'treatme',
  REDIS_HOST: 'redis.internal',
  REDIS_PORT: '6379',
  REDIS_AUTH_TOKEN: 'tok3n',
  NODE_ID_PREFIX: 'treatme-dev',
  TREATME_MODE: 'cluster',
  AWS_REGION: 'us-east-1',
  JWT_SECRET: 'x'.repeat(40),
};

function run(env: Record<string, string>, command = PRINT_ENV) {
  const [sh, ...args] = ENTRY_POINT;
  const r = spawnSync(sh!, [...args, ...command], { env: { ...env, TMPDIR: scratch }, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, env: r.status === 0 ? (JSON.parse(r.stdout) as Record<string, string>) : {} };
}

describe('container entry point', () => {
  it('assembles URLs the server config accepts, and hides the parts it built them from', () => {
    const r = run(BASE_ENV);
    expect(r.status, r.stderr).toBe(0);
    const config = loadConfig(r.env);
    expect(config.mode).toBe('cluster');
    expect(new URL(config.DATABASE_URL!).password).toBe('p4ss-w.rd_X');
    expect(new URL(config.DATABASE_URL!).host).toBe('db.internal:5432');
    expect(config.REDIS_URL).toBe('rediss://:tok3n@redis.internal:6379');
    expect(r.env.DB_PASSWORD).toBeUndefined();
    expect(r.env.REDIS_AUTH_TOKEN).toBeUndefined();
  });

  it('gives every task its own NODE_ID', () => {
    const a = run(BASE_ENV).env.NODE_ID;
    const b = run(BASE_ENV).env.NODE_ID;
    expect(a).toMatch(/^treatme-dev-/);
    expect(a).not.toBe(b);
  });

  it('without Redis (the migration task) sets no REDIS_URL', () => {
    const { REDIS_HOST: _h, REDIS_PORT: _p, REDIS_AUTH_TOKEN: _t, ...noRedis } = BASE_ENV;
    const r = run(noRedis);
    expect(r.status, r.stderr).toBe(0);
    expect(r.env.REDIS_URL).toBeUndefined();
  });

  it('refuses to start when a database part is missing', () => {
    const { DB_PASSWORD: _pw, ...missing } = BASE_ENV;
    expect(run(missing).status).not.toBe(0);
  });

  it('turns the push keys into private files the *_FILE settings point at', () => {
    const r = run({
      ...BASE_ENV,
      APNS_KEY_P8: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
      FCM_SERVICE_ACCOUNT_JSON: '{"type":"service_account"}',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(r.env.APNS_KEY_FILE!, 'utf8')).toBe('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----');
    expect(statSync(r.env.APNS_KEY_FILE!).mode & 0o077).toBe(0);
    expect(JSON.parse(readFileSync(r.env.FCM_SERVICE_ACCOUNT_FILE!, 'utf8'))).toEqual({ type: 'service_account' });
    expect(r.env.APNS_KEY_P8).toBeUndefined();
    rmSync(r.env.APNS_KEY_FILE!);
    rmSync(r.env.FCM_SERVICE_ACCOUNT_FILE!);
  });

  it('execs the command, so the server is the process that gets SIGTERM', () => {
    // `exec` replaces the shell: the command's parent is whoever started sh, not sh itself.
    const r = run(BASE_ENV, [process.execPath, '-e', `process.stdout.write(JSON.stringify({ ppid: String(process.ppid) }))`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.env.ppid).toBe(String(process.pid));
  });

  it('every character RDS may put in the password survives the URL unescaped', () => {
    for (let code = 33; code < 127; code++) {
      const c = String.fromCharCode(code);
      if (DB_PASSWORD_EXCLUDED.includes(c)) continue;
      const url = new URL(`postgresql://u:a${c}b@h:5432/db`);
      expect(decodeURIComponent(url.password), `password character ${c}`).toBe(`a${c}b`);
      expect(url.hostname).toBe('h');
    }
  });
});

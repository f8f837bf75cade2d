import { execSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Socket } from 'node:net';

/** Resolves when something accepts TCP connections on host:port, false after timeoutMs. */
export async function tcpReachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return await new Promise((res) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, host, () => done(true));
  });
}

async function waitFor(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await tcpReachable(host, port)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Starts the machine's PostgreSQL cluster if nothing listens on 127.0.0.1:5432. */
export async function ensurePostgres(log: (m: string) => void = console.log): Promise<void> {
  if (await tcpReachable('127.0.0.1', 5432)) return;
  log('PostgreSQL is down on 127.0.0.1:5432: starting it');
  const versions = readdirSync('/etc/postgresql');
  for (const v of versions) {
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'inherit' });
  }
  if (!(await waitFor('127.0.0.1', 5432, 20_000))) throw new Error('PostgreSQL did not come up on 127.0.0.1:5432');
}

/** Starts a throwaway Redis if nothing listens on 127.0.0.1:6379. */
export async function ensureRedis(log: (m: string) => void = console.log): Promise<void> {
  if (await tcpReachable('127.0.0.1', 6379)) return;
  log('Redis is down on 127.0.0.1:6379: starting it');
  execSync('redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no', { stdio: 'inherit' });
  if (!(await waitFor('127.0.0.1', 6379, 10_000))) throw new Error('Redis did not come up on 127.0.0.1:6379');
}

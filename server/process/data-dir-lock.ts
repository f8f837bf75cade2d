import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly lockFile: string,
    readonly ownerPid: number,
  ) {
    super(`another TreatMe server (pid ${ownerPid}) is already using this embedded data folder (lock file ${lockFile})`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Two processes opening one PGlite folder corrupt it, so the embedded server holds a pid file beside it
 * for its lifetime. A lock left by a process that died (kill -9, power loss) is taken over, because
 * its pid no longer runs; `release` is idempotent and also runs on process exit.
 */
export function lockDataDir(lockFile: string): { release(): void } {
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw lockError(err, lockFile);
      const owner = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) throw new DataDirLockedError(lockFile, owner);
      rmSync(lockFile, { force: true });
    }
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    rmSync(lockFile, { force: true });
  };
  process.once('exit', release);
  return { release };
}

function lockError(err: unknown, lockFile: string): Error {
  if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
    // Another process took the stale lock between our delete and our create.
    const owner = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
    return new DataDirLockedError(lockFile, Number.isInteger(owner) ? owner : -1);
  }
  return err instanceof Error ? err : new Error(String(err));
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What a process manager sees: `npm start` as a real process tree. SIGTERM to the npm process must reach
 * the server (no tsx wrapper in between), drain it and leave nothing behind; a second server on the same
 * embedded data folder must refuse with a clear message instead of opening the database twice.
 */
const dataRoot = mkdtempSync(join(tmpdir(), 'treatme-npm-start-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.pid) spawnSync('kill', ['-KILL', `-${c.pid}`]);
  rmSync(dataRoot, { recursive: true, force: true });
});

function npmStart(env: Record<string, string>) {
  const proc = spawn('npm', ['start', '--silent'], {
    env: {
      ...process.env,
      PORT: '0',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      PGLITE_DATA_DIR: join(dataRoot, 'pglite'),
      SEED_DEMO_DATA: 'false',
      ...env,
    },
    // Its own process group, so the test can tell whether anything of the tree outlives npm.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': it waits for every holder of the stdio pipes, i.e. the server under npm too.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once('close', (code, signal) => res({ code, signal })),
  );
  const listening = new Promise<number>((res, rej) => {
    const timer = setInterval(() => {
      const m = /"port":(\d+)[^\n]*listening/.exec(out);
      if (m) {
        clearInterval(timer);
        res(Number(m[1]));
      } else if (proc.exitCode !== null) {
        clearInterval(timer);
        rej(new Error(`npm start exited ${proc.exitCode}:\n${out}`));
      }
    }, 100);
  });
  // A server expected to refuse is never awaited for listening: keep its rejection from going unhandled.
  listening.catch(() => undefined);
  return { proc, exited, listening, output: () => out };
}

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start as a process manager runs it', () => {
  it('drains and exits on SIGTERM to the npm process, leaving no orphan; a second server on the same data folder refuses', async () => {
    const first = npmStart({});
    const port = await first.listening;
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    const second = npmStart({});
    expect((await second.exited).code).not.toBe(0);
    expect(second.output()).toMatch(/refused to start: another TreatMe server \(pid \d+\) is already using this embedded data folder/);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    first.proc.kill('SIGTERM');
    const { code, signal } = await first.exited;
    // npm passes the signal on and, once its child is gone, ends by the same signal (or 0).
    expect(code === 0 || signal === 'SIGTERM', `npm exit ${code} ${signal}`).toBe(true);
    // The server itself drained: its last words are the shutdown's.
    expect(first.output()).toContain('shutdown complete');
    // Nothing of the tree (npm, sh, node) is left serving.
    const deadline = Date.now() + 5_000;
    while (groupAlive(first.proc.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(groupAlive(first.proc.pid!)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 240_000);
});

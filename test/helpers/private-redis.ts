import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/** A Redis of the test's own, so it can be killed and brought back without touching anyone else's. */
export async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      await new Promise<void>((res, rej) => {
        const s = connect(port, '127.0.0.1', () => {
          s.end();
          res();
        });
        s.once('error', rej);
      });
      return proc;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server did not start');
}

/** Opens N sockets to one server from several child processes (see socket-clients.ts for why). */
import { fork, type ChildProcess } from 'node:child_process';
import type { FromClients, ToClients } from './socket-clients';

export interface Fleet {
  connected: number;
  failed: number;
  errors: string[];
  /** Sockets that connected and were closed afterwards (by the server or the network). */
  lost(): number;
  close(): Promise<void>;
}

export interface FleetOptions {
  url: string;
  tokens: string[];
  /** Sockets per child process: below the per-process descriptor limit with room to spare. */
  perProcess: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export async function openFleet(o: FleetOptions): Promise<Fleet> {
  const shares: string[][] = [];
  for (let i = 0; i < o.tokens.length; i += o.perProcess) shares.push(o.tokens.slice(i, i + o.perProcess));
  const children: ChildProcess[] = [];
  const lostBy = new Map<ChildProcess, number>();
  const progress = new Map<ChildProcess, number>();
  const killAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.once('exit', killAll);
  const ticker = setInterval(
    () => o.log?.(`  clients: ${[...progress.values()].reduce((a, n) => a + n, 0)} / ${o.tokens.length} connected`),
    5_000,
  );
  try {
    const results = await Promise.all(
      shares.map(
        (tokens) =>
          new Promise<{ connected: number; failed: number; errors: string[] }>((res, rej) => {
            const child = fork(new URL('./socket-clients.ts', import.meta.url).pathname, [], {
              execArgv: ['--import', 'tsx'],
              stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            });
            children.push(child);
            child.on('message', (m: FromClients) => {
              if (m.type === 'progress') progress.set(child, m.connected);
              else if (m.type === 'lost') lostBy.set(child, m.lost);
              else {
                progress.set(child, m.connected);
                res(m);
              }
            });
            child.once('exit', (code) => rej(new Error(`client process exited ${code} before connecting its share`)));
            const msg: ToClients = { type: 'connect', url: o.url, tokens, concurrency: o.concurrency ?? 40 };
            child.send(msg);
          }),
      ),
    );
    return {
      connected: results.reduce((a, r) => a + r.connected, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
      lost: () => [...lostBy.values()].reduce((a, n) => a + n, 0),
      close: async () => {
        await Promise.all(
          children.map((c) => {
            if (c.exitCode !== null) return undefined;
            // The connect-phase listener treats an exit as a failure; from here an exit is the goal.
            c.removeAllListeners('exit');
            const exited = new Promise((r) => c.once('exit', r));
            const msg: ToClients = { type: 'close' };
            c.send(msg);
            return exited;
          }),
        );
        process.off('exit', killAll);
      },
    };
  } catch (err) {
    killAll();
    process.off('exit', killAll);
    throw err;
  } finally {
    clearInterval(ticker);
  }
}

import type { Ack } from '../../protocol/errors';
import type { ServerToClientEvents } from '../../protocol/events';
import type { TestClient } from './test-server';

type Payload<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/** Emits a client event and resolves with its acknowledgement (fails the test after timeoutMs). */
export async function emitAck<T = unknown>(socket: TestClient, event: string, payload?: unknown, timeoutMs = 15_000): Promise<Ack<T>> {
  const s = socket.timeout(timeoutMs) as unknown as {
    emit(ev: string, ...args: unknown[]): void;
  };
  return await new Promise<Ack<T>>((res, rej) => {
    const cb = (err: Error | null, ack: Ack<T>) => (err ? rej(new Error(`no ack for ${event} within ${timeoutMs} ms`)) : res(ack));
    if (payload === undefined) s.emit(event, cb);
    else s.emit(event, payload, cb);
  });
}

/** Like emitAck but expects success and returns the data. */
export async function emitOk<T = unknown>(socket: TestClient, event: string, payload?: unknown, timeoutMs?: number): Promise<T> {
  const ack = await emitAck<T>(socket, event, payload, timeoutMs);
  if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}

/** Resolves with the first `event` whose payload satisfies `match`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: TestClient,
  event: E,
  match: (p: Payload<E>) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<Payload<E>> {
  return new Promise((res, rej) => {
    const s = socket as unknown as { on(e: string, f: (p: unknown) => void): void; off(e: string, f: (p: unknown) => void): void };
    const timer = setTimeout(() => {
      s.off(event, handler);
      rej(new Error(`no ${event} matching within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (p: unknown) => {
      if (!match(p as Payload<E>)) return;
      clearTimeout(timer);
      s.off(event, handler);
      res(p as Payload<E>);
    };
    s.on(event, handler);
  });
}

/** Collects every `event` payload from now on. */
export function collect<E extends keyof ServerToClientEvents>(socket: TestClient, event: E): Payload<E>[] {
  const out: Payload<E>[] = [];
  (socket as unknown as { on(e: string, f: (p: unknown) => void): void }).on(event, (p) => out.push(p as Payload<E>));
  return out;
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, stepMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

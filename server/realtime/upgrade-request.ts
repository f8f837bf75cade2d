import type { EventEmitter } from 'node:events';

/**
 * engine.io 6.6 answers a WebSocket upgrade with a WebSocketResponse that listens for the TCP socket's
 * 'close' only to re-emit it to engine middlewares (`io.engine.use`). That listener keeps the response
 * and the upgrade request (raw headers, parser state…) reachable for the whole connection, about
 * 1.6 KB per socket, so socket.io's documented `rawSocket.request = null` frees nothing. TreatMe
 * registers no engine middleware: nothing hears the re-emitted 'close', and the listener can go.
 *
 * Matched by its exact source so that nothing else is ever removed: if engine.io changes it, this
 * becomes a no-op (test/realtime/socket-memory.test.ts notices) rather than a behaviour change.
 */
const RELAY_SOURCE = '() => this.emit("close")';

type Listener = (...args: unknown[]) => void;

function tcpSocketOf(transport: unknown): EventEmitter | undefined {
  // engine.io's websocket transport → its `ws` WebSocket → the net.Socket underneath.
  const t = transport as { name?: string; socket?: { _socket?: EventEmitter } } | undefined;
  return t?.name === 'websocket' ? t.socket?._socket : undefined;
}

/** Returns how many relay listeners were removed (0 or 1). */
export function releaseUpgradeRequest(transport: unknown): number {
  const tcp = tcpSocketOf(transport);
  if (!tcp) return 0;
  let removed = 0;
  for (const raw of tcp.rawListeners('close') as (Listener & { listener?: Listener })[]) {
    const fn = raw.listener ?? raw;
    if (fn.toString() === RELAY_SOURCE) {
      tcp.removeListener('close', fn);
      removed++;
    }
  }
  return removed;
}

export function hasUpgradeRelay(transport: unknown): boolean {
  const tcp = tcpSocketOf(transport);
  return (tcp?.rawListeners('close') ?? []).some(
    (raw) => ((raw as Listener & { listener?: Listener }).listener ?? raw).toString() === RELAY_SOURCE,
  );
}

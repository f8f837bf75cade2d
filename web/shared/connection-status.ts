import type { Socket } from 'socket.io-client';
import { ServerEvent, type ClientToServerEvents, type ServerToClientEvents } from '../../protocol/events';

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'back';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Connection lost — reconnecting…',
  back: 'Back online',
};

/** How long "Back online" stays up before settling to "Live". */
const BACK_MS = 4_000;

/**
 * Drives a status pill (`data-state` = connecting | live | reconnecting | back) from the socket's
 * lifecycle, and reconnects in the two cases socket.io-client leaves to the app: the server closed the
 * socket itself (a draining node after `server:shutdown`), or the handshake was refused.
 */
export function trackConnection(
  socket: AppSocket,
  el: HTMLElement,
  opts: { onRefused?: (err: Error) => Promise<boolean> | boolean } = {},
): { state(): ConnectionState } {
  let state: ConnectionState = 'connecting';
  let everConnected = false;
  let backTimer: ReturnType<typeof setTimeout> | undefined;
  let detail = '';

  const render = () => {
    el.dataset.state = state;
    el.className = `conn conn--${state}`;
    el.textContent = detail ? `${LABELS[state]} ${detail}` : LABELS[state];
  };
  const set = (next: ConnectionState, extra = '') => {
    state = next;
    detail = extra;
    clearTimeout(backTimer);
    if (next === 'back') backTimer = setTimeout(() => set('live'), BACK_MS);
    render();
  };

  socket.on('connect', () => {
    set(everConnected ? 'back' : 'live');
    everConnected = true;
  });
  socket.on('disconnect', (reason) => {
    set('reconnecting');
    // socket.io-client retries by itself except when the server closed the socket on purpose.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 500 + Math.random() * 1_000);
  });
  socket.on(ServerEvent.ServerShutdown, ({ reconnectAfterMs }) => {
    set('reconnecting', '(server restarting)');
    setTimeout(
      () => {
        if (!socket.connected) socket.connect();
      },
      reconnectAfterMs + Math.random() * 500,
    );
  });
  socket.io.on('reconnect_attempt', (attempt) => {
    if (attempt > 1) set('reconnecting', `(attempt ${attempt})`);
  });
  socket.on('connect_error', (err) => {
    if (state !== 'reconnecting') set(everConnected ? 'reconnecting' : 'connecting');
    // `active` false: the server refused the handshake (e.g. an expired token) and no retry is scheduled.
    if (!socket.active) {
      void Promise.resolve(opts.onRefused?.(err) ?? false).then((retry) => {
        if (retry) socket.connect();
        else set('reconnecting', `(${err.message})`);
      });
    }
  });
  render();
  return { state: () => state };
}

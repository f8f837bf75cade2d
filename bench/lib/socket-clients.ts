/**
 * Child process of client-fleet.ts: holds a share of the benchmark's sockets. One process cannot open
 * more than its file-descriptor limit, so the fleet spreads the sockets over several of these.
 *
 * Speaks the engine.io v4 / socket.io v5 wire protocol over raw `ws` instead of running socket.io-client:
 * the server sees the same frames a phone sends (open, CONNECT with auth, pong), while each client
 * costs a fraction of the memory, which matters with ~19,000 of them on the same box as the server.
 */
import WebSocket from 'ws';
import { mapLimit } from '../../server/lib/map-limit';

export type ToClients = { type: 'connect'; url: string; tokens: string[]; concurrency: number } | { type: 'close' };
export type FromClients =
  | { type: 'progress'; connected: number; failed: number }
  | { type: 'done'; connected: number; failed: number; errors: string[] }
  | { type: 'lost'; lost: number };

const send = (m: FromClients) => process.send?.(m);
const sockets: WebSocket[] = [];
let lost = 0;
let closing = false;

function open(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
    handshakeTimeout: 60_000,
  });
  return new Promise((res, rej) => {
    let connected = false;
    ws.on('message', (data) => {
      const frame = String(data);
      // Engine.io ping from the server: a phone that does not answer is dropped after pingTimeout.
      if (frame === '2') ws.send('3');
      else if (frame.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
      else if (frame.startsWith('40') && !connected) {
        connected = true;
        res(ws);
      } else if (frame.startsWith('44')) {
        rej(new Error(`connect refused: ${frame.slice(2, 200)}`));
        ws.close();
      }
    });
    ws.on('error', (err) => {
      if (!connected) rej(err);
    });
    ws.on('close', () => {
      if (!connected) rej(new Error('closed before CONNECT'));
      else if (!closing) {
        lost++;
        send({ type: 'lost', lost });
      }
    });
  });
}

async function connectAll(url: string, tokens: string[], concurrency: number): Promise<void> {
  let failed = 0;
  const errors: string[] = [];
  const progress = setInterval(() => send({ type: 'progress', connected: sockets.length, failed }), 1_000);
  await mapLimit(tokens, concurrency, async (token) => {
    try {
      sockets.push(await open(url, token));
    } catch (err) {
      failed++;
      if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
    }
  });
  clearInterval(progress);
  send({ type: 'done', connected: sockets.length, failed, errors });
}

process.on('message', (m: ToClients) => {
  if (m.type === 'connect') void connectAll(m.url, m.tokens, m.concurrency);
  else {
    closing = true;
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasUpgradeRelay } from '../../server/realtime/upgrade-request';
import type { TypedSocket } from '../../server/realtime/typed-server';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, type TestUser } from '../helpers/users';

// Guards what bench/sockets-bench.ts measures: a held socket keeps no per-connection listeners of
// ours and no upgrade request. If a socket.io/engine.io upgrade changes the internals these rely on,
// this fails instead of the heap per socket silently growing.

let ts: TestServer;
let user: TestUser;
beforeAll(async () => {
  ts = await startTestServer({}, { label: 'socketmem' });
  user = await createUser(ts.server.ctx, 'socketmem');
});
afterAll(async () => ts?.close());

function serverSocket(id: string | undefined): TypedSocket {
  const s = [...ts.server.ctx.io.of('/').sockets.values()].find((x) => x.id === id);
  if (!s) throw new Error(`no server socket ${id}`);
  return s;
}

describe('per-socket memory', () => {
  it('a signed-in socket shares its handlers: one catch-all listener and one disconnect listener', async () => {
    const phone = await ts.connect(user.token);
    const s = serverSocket(phone.id);
    expect(s.listenersAny()).toHaveLength(1);
    // socket.io's own no-op 'error' listener, and ours for 'disconnect': no listener per client event.
    expect(s.eventNames().sort()).toEqual(['disconnect', 'error']);
    expect(s.listeners('disconnect')).toHaveLength(1);
    const other = serverSocket((await ts.connect()).id);
    expect(other.listenersAny()[0]).toBe(s.listenersAny()[0]);
    phone.disconnect();
  });

  it('the upgrade request is not kept reachable from the TCP socket', async () => {
    const phone = await ts.connect(user.token);
    expect(serverSocket(phone.id).conn.request).toBeNull();
    expect(hasUpgradeRelay(serverSocket(phone.id).conn.transport)).toBe(false);
    phone.disconnect();
  });
});

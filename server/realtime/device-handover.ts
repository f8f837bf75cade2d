import { Rooms } from '../../protocol/events';
import type { Logger } from '../observability/logger';
import type { PresenceStore } from '../presence/presence-store';
import type { LivenessTracker } from './liveness-tracker';
import type { TypedServer, TypedSocket } from './typed-server';

/** How long a closing socket waits for the other nodes before it cuts the grace period anyway. */
const RECLAIM_TIMEOUT_MS = 1_500;

export interface DeviceHandoverDeps {
  io: TypedServer;
  store: PresenceStore;
  liveness: LivenessTracker;
  logger: Logger;
  now(): number;
  nodeKey(): string;
}

/**
 * Two devices of one user on two nodes share one stay, owned by whichever connected last. When that
 * newer one closes, its node must not cut the stay the older device still holds elsewhere: it asks
 * the other nodes first, and a node with another socket of the user takes the stay over (a resume:
 * the lease restored, `node` moved to it, so neither the grace cut nor a death of the first node ends
 * it). Returns the answer-taking side and registers the answering side.
 */
export function deviceHandover(d: DeviceHandoverDeps): (socket: TypedSocket, userId: string) => Promise<boolean> {
  d.io.on('presence:reclaim', (msg, ack) => {
    const userId = typeof msg?.userId === 'string' ? msg.userId : undefined;
    const room = userId ? d.io.of('/').adapter.rooms.get(Rooms.user(userId)) : undefined;
    if (!userId || !room || room.size === 0) return ack(false);
    d.store
      .resume(userId, d.now(), d.nodeKey())
      .then((presence) => {
        if (!presence) return ack(false);
        for (const id of room) {
          const s = d.io.of('/').sockets.get(id);
          if (s) s.data.presenceSeenAt = presence.lastSeenAt;
        }
        d.liveness.beat(userId, presence);
        ack(true);
      })
      .catch((err: unknown) => {
        d.logger.warn({ err, userId }, 'taking over a closed device’s stay failed');
        ack(false);
      });
  });

  return (socket, userId) =>
    new Promise<boolean>((res) => {
      const timer = setTimeout(() => res(false), RECLAIM_TIMEOUT_MS);
      const done = (answers: unknown[] | undefined) => {
        clearTimeout(timer);
        res((answers ?? []).some((held) => held === true));
      };
      // The adapter itself, not nsp.serverSideEmit, which drops the promise: with Redis down the request
      // fails at once (or times out) and the cut goes ahead, as it did before.
      const adapter = socket.nsp.adapter as unknown as { serverSideEmit(packet: unknown[]): Promise<void> | void };
      Promise.resolve()
        .then(() => adapter.serverSideEmit(['presence:reclaim', { userId }, (_err: Error | null, answers: unknown[]) => done(answers)]))
        .catch(() => done(undefined));
    });
}

/**
 * `node --import tsx --import ./bench/lib/read-counter-preload.ts server/main.ts`: counts, in a spawned
 * server, what each GET /api/venues request really reads: SQL statements sent to PostgreSQL (node-postgres,
 * as Prisma's pg adapter uses), presence-store reads (the in-process and the DynamoDB store alike) and
 * Redis commands. Work is charged to a request when it runs in that request's async context
 * (AsyncLocalStorage entered where Node emits the request), so background work (the count resync,
 * sweeps, the storm's check-ins) is told apart from what answering costs. Writes the running totals as
 * to the parent over IPC when asked ('read-counts'), for bench/venues-bench.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DynamoPresenceStore } from '../../server/presence/dynamo-presence-store';
import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';

export interface ReadCounts {
  /** GET /api/venues… requests received. */
  requests: number;
  inRequests: { pg: number; storeCalls: number; storeItems: number; redis: number };
  total: { pg: number; storeCalls: number; storeItems: number; redis: number };
}

const counts: ReadCounts = {
  requests: 0,
  inRequests: { pg: 0, storeCalls: 0, storeItems: 0, redis: 0 },
  total: { pg: 0, storeCalls: 0, storeItems: 0, redis: 0 },
};
const inVenueRequest = new AsyncLocalStorage<true>();

function charge(kind: keyof ReadCounts['total'], n = 1): void {
  counts.total[kind] += n;
  if (inVenueRequest.getStore()) counts.inRequests[kind] += n;
}

const serverProto = http.Server.prototype as unknown as { emit: (event: string, ...args: unknown[]) => boolean };
const emit = serverProto.emit;
serverProto.emit = function (this: unknown, event: string, ...args: unknown[]) {
  const req = args[0] as http.IncomingMessage | undefined;
  if (event === 'request' && req?.url?.startsWith('/api/venues')) {
    counts.requests++;
    return inVenueRequest.run(true, () => emit.call(this, event, ...args));
  }
  return emit.call(this, event, ...args);
};

function wrap(proto: object, name: string, onCall: (args: unknown[]) => void): void {
  const owner = proto as Record<string, unknown>;
  const original = owner[name];
  if (typeof original !== 'function') throw new Error(`read counter: no ${name} to count`);
  owner[name] = function (this: unknown, ...args: unknown[]) {
    onCall(args);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
}

wrap(pg.Client.prototype, 'query', () => charge('pg'));
wrap(Redis.prototype, 'sendCommand', () => charge('redis'));
for (const Store of [MemoryPresenceStore, DynamoPresenceStore]) {
  wrap(Store.prototype, 'get', () => {
    charge('storeCalls');
    charge('storeItems');
  });
  wrap(Store.prototype, 'listVenue', () => {
    charge('storeCalls');
    charge('storeItems');
  });
  wrap(Store.prototype, 'getCounts', (args) => {
    charge('storeCalls');
    charge('storeItems', Array.isArray(args[0]) ? args[0].length : 1);
  });
}

// Asked over the IPC channel the benchmark opened: no file written on a timer inside the measured process.
if (process.send) {
  process.on('message', (m: unknown) => {
    if (m === 'read-counts') process.send!({ readCounts: counts });
  });
  // The channel alone must not keep a server that was told to stop alive.
  process.channel?.unref();
}

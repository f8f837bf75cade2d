import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { DYNAMO_WRITE_COMMANDS } from '../../server/storage/dynamo-client';
import { emitOk } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues } from '../helpers/users';

/**
 * PRESENCE_HEARTBEAT_WRITES is what the load-test benchmark's naive baseline stands on: `every` must
 * really write each heartbeat to DynamoDB, and `lease` must really not, counted where the server
 * counts its DynamoDB commands (treatme_dynamodb_requests_total).
 */
let lease: TestServer;
let every: TestServer;

beforeAll(async () => {
  [lease, every] = await Promise.all([
    startTestServer({ PRESENCE_HEARTBEAT_WRITES: 'lease' }, { label: 'hb-lease' }),
    startTestServer({ PRESENCE_HEARTBEAT_WRITES: 'every' }, { label: 'hb-every' }),
  ]);
});
afterAll(async () => Promise.all([lease?.close(), every?.close()]));

async function dynamoRequests(ts: TestServer): Promise<{ writes: number; byCommand: Record<string, number> }> {
  const byCommand: Record<string, number> = {};
  let writes = 0;
  for (const v of (await ts.server.ctx.metrics.dynamoRequests.get()).values) {
    const command = String(v.labels.command);
    byCommand[command] = (byCommand[command] ?? 0) + v.value;
    if (DYNAMO_WRITE_COMMANDS.has(command)) writes += v.value;
  }
  return { writes, byCommand };
}

/** Checks a user in, then sends `beats` heartbeats; the DynamoDB writes the heartbeats alone cost. */
async function heartbeatWrites(ts: TestServer, beats: number): Promise<number> {
  const venue = (await demoVenues(ts.server.ctx))[3]!;
  const user = await createUser(ts.server.ctx, 'beater');
  const phone = await ts.connect(user.token);
  await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
  // The connect-time presence restore runs in the background; let it land before counting.
  await new Promise((r) => setTimeout(r, 200));
  const before = await dynamoRequests(ts);
  for (let i = 0; i < beats; i++) {
    // A new millisecond each time, so each beat moves the expiry forward.
    await new Promise((r) => setTimeout(r, 10));
    expect(await emitOk(phone, ClientEvent.Heartbeat, {})).toMatchObject({ presence: { venueId: venue.id } });
  }
  const after = await dynamoRequests(ts);
  phone.disconnect();
  return after.writes - before.writes;
}

describe('PRESENCE_HEARTBEAT_WRITES', () => {
  it('every: each heartbeat is one DynamoDB write', async () => {
    expect(await heartbeatWrites(every, 5)).toBe(5);
  });

  it('lease: heartbeats far from the lease end cost no DynamoDB write', async () => {
    expect(await heartbeatWrites(lease, 5)).toBe(0);
  });

  it('counts the commands by name', async () => {
    const { byCommand } = await dynamoRequests(every);
    expect(byCommand.TransactWriteItems).toBeGreaterThan(0);
    expect(byCommand.UpdateItem).toBeGreaterThanOrEqual(5);
  });
});

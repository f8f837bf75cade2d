import { z } from 'zod';
import { ErrorCode } from './errors';
import { ClientEvent, Rooms, ServerEvent, type ClientToServerEvents, type ServerToClientEvents } from './events';
import * as payloads from './schemas';
import { ackDataSchemas, serverMessageSchemas } from './socket-messages';

type Json = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as Json;
  return rest;
};

/** Component keys allow no colon: `presence:checkin` → `presence.checkin`. */
const key = (event: string) => event.replace(/:/g, '.');

const clientPayloads: { [E in keyof ClientToServerEvents]: z.ZodType } = {
  'presence:checkin': payloads.CheckInPayload,
  'presence:heartbeat': payloads.HeartbeatPayload,
  'presence:leave': payloads.LeavePayload,
  'presence:update': payloads.PresenceUpdatePayload,
  'venue:watch': payloads.VenueWatchPayload,
  'venue:unwatch': payloads.VenueWatchPayload,
  'map:watch': payloads.MapWatchPayload,
  'map:unwatch': payloads.EmptyPayload,
  'staff:join': payloads.StaffJoinPayload,
  'auth:refresh': payloads.AuthRefreshPayload,
};

const clientSummaries: { [E in keyof ClientToServerEvents]: string } = {
  'presence:checkin': 'Check in at a venue (within CHECKIN_MAX_DISTANCE_METERS of it); a check-in elsewhere is a move',
  'presence:heartbeat': 'Keep the stay alive (the app beats every ~30 s); answers the current presence or null',
  'presence:leave': 'End the stay (at venueId only, when given)',
  'presence:update': 'Change wantsToBuy / wantsToReceive / visible of the current stay',
  'venue:watch': 'Follow the live counts of these venues (joins their venue rooms)',
  'venue:unwatch': 'Stop following these venues',
  'map:watch': 'Follow every venue in a map bounding box [west, south, east, north] (joins map-cell rooms)',
  'map:unwatch': 'Stop following the map',
  'staff:join': 'Staff tablets: receive the venue’s paid orders and redemptions (joins the staff room)',
  'auth:refresh': 'Hand the socket a fresh access token before the current one expires, or the server ends the socket at expiry',
};

/** Which room (channel) each server event is delivered through, and when. */
const serverRouting: { [E in keyof ServerToClientEvents]: { channel: string; summary: string } } = {
  'venue:count': {
    channel: 'venueRoom',
    summary: 'A venue’s live count changed (coalesced per COUNT_COALESCE_MS); also sent to its map-cell rooms. Keep the highest version.',
  },
  'venue:snapshot': { channel: 'connection', summary: 'Fresh counts of everything this socket watches (after a resync or Redis recovery)' },
  'friend:presence': { channel: 'userRoom', summary: 'A friend checked in somewhere (venueId) or left (null)' },
  'venue:people': { channel: 'peopleRoom', summary: 'Changes to the people list of the venue the receiver is checked in at' },
  'order:received': { channel: 'userRoom', summary: 'Someone bought the receiver a treat (after payment authorised)' },
  'order:updated': { channel: 'userRoom', summary: 'An order of the receiver (as buyer or recipient) changed status' },
  'order:paid': { channel: 'staffRoom', summary: 'A paid treat at this venue, for the bar' },
  'redemption:new': { channel: 'staffRoom', summary: 'A treat was accepted: its QR code may be scanned soon' },
  'server:shutdown': { channel: 'connection', summary: 'This node is draining: reconnect (to any node) after reconnectAfterMs' },
  'auth:expired': {
    channel: 'connection',
    summary: 'The socket’s credentials ended (token expired without auth:refresh, or revoked): the server disconnects it next',
  },
};

const ErrorSchema = z.object({
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The socket.io protocol as AsyncAPI 3, generated from protocol/ (event names, zod payload schemas, ack
 * shapes, error codes, room names), so it cannot drift from what the server parses. Each client event
 * is an operation the server receives with an ack as its reply; each server event is sent through the
 * room it is emitted to.
 */
export function buildAsyncApiDocument(): Json {
  const messages: Record<string, Json> = {};
  const schemas: Record<string, Json> = { WireError: toSchema(ErrorSchema, 'output') };
  const connectionMessages: Record<string, Json> = {};
  const roomMessages: Record<string, Record<string, Json>> = { venueRoom: {}, peopleRoom: {}, userRoom: {}, staffRoom: {} };
  const operations: Record<string, Json> = {};

  for (const event of Object.values(ClientEvent)) {
    const k = key(event);
    schemas[`${k}.payload`] = toSchema(clientPayloads[event], 'input');
    schemas[`${k}.ackData`] = toSchema(ackDataSchemas[event], 'output');
    messages[k] = { name: event, title: event, summary: clientSummaries[event], payload: { $ref: `#/components/schemas/${k}.payload` } };
    messages[`${k}.ack`] = {
      name: `${event} ack`,
      title: `${event} acknowledgement`,
      summary: 'Every client event is acknowledged: { ok: true, data } or { ok: false, error: { code, message, issues? } }',
      payload: {
        oneOf: [
          {
            type: 'object',
            required: ['ok', 'data'],
            properties: { ok: { const: true }, data: { $ref: `#/components/schemas/${k}.ackData` } },
          },
          {
            type: 'object',
            required: ['ok', 'error'],
            properties: { ok: { const: false }, error: { $ref: '#/components/schemas/WireError' } },
          },
        ],
      },
    };
    connectionMessages[k] = { $ref: `#/components/messages/${k}` };
    connectionMessages[`${k}.ack`] = { $ref: `#/components/messages/${k}.ack` };
    operations[k] = {
      action: 'receive',
      title: event,
      summary: clientSummaries[event],
      channel: { $ref: '#/channels/connection' },
      messages: [{ $ref: `#/channels/connection/messages/${k}` }],
      reply: { channel: { $ref: '#/channels/connection' }, messages: [{ $ref: `#/channels/connection/messages/${k}.ack` }] },
    };
  }

  for (const event of Object.values(ServerEvent)) {
    const k = key(event);
    const { channel, summary } = serverRouting[event];
    schemas[`${k}.message`] = toSchema(serverMessageSchemas[event], 'output');
    messages[k] = { name: event, title: event, summary, payload: { $ref: `#/components/schemas/${k}.message` } };
    (channel === 'connection' ? connectionMessages : roomMessages[channel]!)[k] = { $ref: `#/components/messages/${k}` };
    operations[k] = {
      action: 'send',
      title: event,
      summary,
      channel: { $ref: `#/channels/${channel}` },
      messages: [{ $ref: `#/channels/${channel}/messages/${k}` }],
    };
  }
  const cellRoom = roomMessages.venueRoom!;

  const room = (address: string, parameter: string, description: string, msgs: Record<string, Json>) => ({
    address,
    title: address,
    description,
    parameters: { [parameter]: { description: `The ${parameter.replace(/Id$/, '')} id` } },
    messages: msgs,
  });

  return {
    asyncapi: '3.1.0',
    info: {
      title: 'TreatMe socket protocol',
      version: '1',
      description:
        'socket.io v4 on the default namespace. Connect with `auth: { token: <accessToken> }` (anonymous viewers may omit it). ' +
        'Event names, payload schemas and error codes come from protocol/ in the server repository. Error codes: ' +
        Object.values(ErrorCode).join(', ') +
        '.',
    },
    defaultContentType: 'application/json',
    channels: {
      connection: {
        address: '/',
        title: 'The socket itself',
        description: 'Events a client emits (each with an ack) and events sent to one socket',
        messages: connectionMessages,
      },
      venueRoom: room(
        Rooms.venue('{venueId}'),
        'venueId',
        'Sockets watching a venue (venue:watch); map-cell rooms `cell:{cell}` (map:watch) get the same venue:count messages',
        cellRoom,
      ),
      mapCellRoom: {
        ...room(Rooms.mapCell('{cell}'), 'cell', 'Sockets watching a map area; receives venue:count for venues in the cell', {
          'venue.count': { $ref: '#/components/messages/venue.count' },
        }),
      },
      peopleRoom: room(Rooms.venuePeople('{venueId}'), 'venueId', 'Sockets of people checked in at a venue', roomMessages.peopleRoom!),
      userRoom: room(Rooms.user('{userId}'), 'userId', 'Every socket of one signed-in user', roomMessages.userRoom!),
      staffRoom: room(Rooms.staff('{venueId}'), 'venueId', 'Staff tablets of a venue (staff:join)', roomMessages.staffRoom!),
    },
    operations,
    components: { messages, schemas },
  };
}

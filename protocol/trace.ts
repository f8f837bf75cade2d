import { z } from 'zod';
import { BBox, Id, Latitude, Longitude } from './schemas';

/**
 * The load tester's trace: one night of client traffic as JSON lines. Line 1 is a `TraceHeader`, every
 * later line one `TraceEvent`, sorted by `t` (ms since the trace starts; ties keep file order). A trace
 * says what clients do, never what the server answers: the judge derives expected counts from it.
 *
 * Users and viewers are numbered (`u`, `w`), venues are indexes into `header.venues`, orders are
 * numbered (`o`) so that pay/accept/scan can refer to the order they act on. Versioned: a replayer
 * refuses a version it does not know. Documented in protocol/README.md.
 */
export const TRACE_FORMAT = 'treatme-trace' as const;
export const TRACE_VERSION = 1 as const;

const Index = z.number().int().min(0);
const Time = z.number().int().min(0);

export const TraceVenue = z.strictObject({
  id: Id,
  slug: z.string().min(1).max(200),
  lat: Latitude,
  lng: Longitude,
  /** The venue's bartender account (dev convention `staff+<slug>@treatme.dev`); scans are made as this user. */
  staffEmail: z.string().email(),
});
export type TraceVenue = z.infer<typeof TraceVenue>;

export const TraceHeader = z.strictObject({
  kind: z.literal('header'),
  format: z.literal(TRACE_FORMAT),
  version: z.literal(TRACE_VERSION),
  seed: z.number().int(),
  /** Wall-clock label of t=0 (the night starts at 21:00) and the trace's length in ms. */
  startsAt: z.string().regex(/^\d\d:\d\d$/),
  durationMs: Time,
  users: z.number().int().min(0),
  viewers: z.number().int().min(0),
  venues: z.array(TraceVenue).min(1),
  /** How often a foreground app heartbeats, in trace time. */
  heartbeatMs: z.number().int().positive(),
  /**
   * The presence timings (trace time) the generator kept clear of at quiesce points; a replayer maps them
   * to real seconds by the speed-up (PRESENCE_TIMEOUT_SECONDS = timeout / speed, …).
   */
  presenceTimeoutMs: z.number().int().positive(),
  presenceGraceMs: z.number().int().min(0),
  /** Users' e-mail addresses are `emailPattern` with `{u}` replaced by the user number. */
  emailPattern: z.string().includes('{u}'),
  events: z.number().int().min(0),
});
export type TraceHeader = z.infer<typeof TraceHeader>;

/** Why a socket closed without a leave: the phone went to the background, the app was killed, the network dropped. */
export const DisconnectReason = z.enum(['leave', 'background', 'kill', 'network', 'end']);
export type DisconnectReason = z.infer<typeof DisconnectReason>;

export const TraceEvent = z.discriminatedUnion('e', [
  /** A user's app opens its socket (again, after a disconnect: a reconnect, possibly to another node). */
  z.strictObject({ t: Time, e: z.literal('connect'), u: Index }),
  z.strictObject({ t: Time, e: z.literal('disconnect'), u: Index, why: DisconnectReason }),
  z.strictObject({
    t: Time,
    e: z.literal('checkin'),
    u: Index,
    v: Index,
    lat: Latitude,
    lng: Longitude,
    buy: z.boolean(),
    recv: z.boolean(),
  }),
  z.strictObject({ t: Time, e: z.literal('heartbeat'), u: Index }),
  z.strictObject({ t: Time, e: z.literal('leave'), u: Index, v: Index }),
  /** A map viewer (anonymous socket, opened on first use) shows this bounding box: map:watch. */
  z.strictObject({ t: Time, e: z.literal('view'), w: Index, bbox: BBox }),
  z.strictObject({ t: Time, e: z.literal('unview'), w: Index }),
  /** User `u` buys a treat for user `to` at venue `v`; `dup` re-sends the same request (a double tap). */
  z.strictObject({
    t: Time,
    e: z.literal('order'),
    o: Index,
    u: Index,
    to: Index,
    v: Index,
    cents: z.number().int().min(50),
    dup: z.boolean(),
  }),
  /** The buyer's payment succeeds (dev payments: a signed webhook through the real route). */
  z.strictObject({ t: Time, e: z.literal('pay'), o: Index }),
  /** The recipient accepts: the order gets its QR code. */
  z.strictObject({ t: Time, e: z.literal('accept'), o: Index }),
  /** The venue's bartender scans the QR code and confirms; `twice` scans again afterwards (must be refused). */
  z.strictObject({ t: Time, e: z.literal('scan'), o: Index, twice: z.boolean() }),
  /** A quiesce point: the replayer stops, lets the server settle and the judge compares counts. */
  z.strictObject({ t: Time, e: z.literal('quiesce'), q: Index }),
]);
export type TraceEvent = z.infer<typeof TraceEvent>;
export type TraceEventKind = TraceEvent['e'];

export type Trace = { header: TraceHeader; events: TraceEvent[] };

export function userEmail(header: Pick<TraceHeader, 'emailPattern'>, u: number): string {
  return header.emailPattern.replace('{u}', String(u));
}

/** One trace as JSON lines (header first). */
export function traceToLines(trace: Trace): string {
  const out = [JSON.stringify(trace.header)];
  for (const ev of trace.events) out.push(JSON.stringify(ev));
  return `${out.join('\n')}\n`;
}

export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

/** Parses and validates JSON lines; events must be in time order. */
export function parseTraceLines(text: string): Trace {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const first = lines[0];
  if (first === undefined) throw new TraceFormatError('empty trace');
  const rawHeader = JSON.parse(first) as { format?: unknown; version?: unknown };
  if (rawHeader.format !== TRACE_FORMAT) throw new TraceFormatError(`not a ${TRACE_FORMAT} file`);
  if (rawHeader.version !== TRACE_VERSION) {
    throw new TraceFormatError(`trace version ${String(rawHeader.version)} is not supported (this tool reads ${TRACE_VERSION})`);
  }
  const header = TraceHeader.parse(rawHeader);
  const events: TraceEvent[] = [];
  let last = 0;
  for (let i = 1; i < lines.length; i++) {
    const parsed = TraceEvent.safeParse(JSON.parse(lines[i]!));
    if (!parsed.success)
      throw new TraceFormatError(`line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    if (parsed.data.t < last) throw new TraceFormatError(`line ${i + 1}: t=${parsed.data.t} goes back in time`);
    last = parsed.data.t;
    events.push(parsed.data);
  }
  return { header, events };
}

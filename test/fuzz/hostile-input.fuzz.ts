import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type Ack } from '../../protocol/errors';
import { ClientEvent } from '../../protocol/events';
import { startCluster, type Cluster, type ClusterNode } from '../helpers/cluster';
import type { TestClient } from '../helpers/test-server';

/**
 * Black-box fuzzing of one real server process (real PostgreSQL, Redis, DynamoDB Local): generated and
 * mutated paths, query strings, headers and bodies at every operation of the served OpenAPI document,
 * and payloads at every client event in protocol/. Holds: no answer ≥ 500, every refusal carries a
 * machine-readable code, a refused request changes no stored state, the process never dies and still
 * answers /health. Seeded: FUZZ_SEED=<n> replays a run; the seed is in every failure message.
 *
 * NOT YET IN `npm test` (named .fuzz.ts, outside vitest's include): its socket half ran far too slowly
 * (acks awaited for handler-less events) and it was not re-verified after the fixes before the deadline.
 * Run it with `npx vitest run --dir test/fuzz --include '**\/*.fuzz.ts'` once tuned.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 8_000);
const SOCKET_RUNS = Number(process.env.FUZZ_SOCKET_RUNS ?? 2_500);
const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string; schema: Json }[];
  body: Json | undefined;
}

let cluster: Cluster;
let node: ClusterNode;
let userId: string;
let friendId: string;
let venueId: string;
let ghostToken: string;
let operations: Operation[];
let tables: string[];

beforeAll(async () => {
  cluster = await startCluster(
    1,
    {
      RATE_LIMIT_AUTH_PER_MINUTE: '100000',
      RATE_LIMIT_WRITES_PER_MINUTE: '100000',
      SOCKET_EVENTS_PER_SECOND: '10000',
      SOCKET_EVENTS_BURST: '10000',
      CODE_RESEND_SECONDS: '0',
      CODE_SENDS_PER_HOUR: '1000',
      LOG_LEVEL: 'error',
    },
    'fuzz',
  );
  node = cluster.nodes[0]!;
  const prisma = cluster.db.prisma;
  const stamp = Date.now();
  userId = (await prisma.user.create({ data: { displayName: 'Fuzzer', email: `fuzzer-${stamp}@test.treatme.dev` } })).id;
  friendId = (await prisma.user.create({ data: { displayName: 'Fuzz friend', email: `fuzz-friend-${stamp}@test.treatme.dev` } })).id;
  await prisma.friendship.create({ data: { requesterId: userId, addresseeId: friendId, status: 'ACCEPTED', acceptedAt: new Date() } });
  venueId = (await prisma.venue.findFirstOrThrow({ orderBy: { slug: 'asc' } })).id;
  const ghost = await prisma.user.create({ data: { displayName: 'Ghost', email: `ghost-${stamp}@test.treatme.dev` } });
  ghostToken = cluster.tokens.sign(ghost.id);
  await prisma.user.delete({ where: { id: ghost.id } });

  const doc = (await (await fetch(`${node.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Json>> };
  operations = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = (op.requestBody as { content?: Record<string, { schema: Json }> } | undefined)?.content?.['application/json']?.schema;
      operations.push({ method: method.toUpperCase(), path, params: (op.parameters as Operation['params']) ?? [], body });
    }
  }
  const rows = await prisma.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY 1`,
  );
  tables = rows.map((r) => r.table_name);
}, 120_000);

afterAll(async () => cluster?.close(), 60_000);

/** Every stored row, cheaply: row count and newest row version (xmin) per table. Any insert, update or delete moves it. */
async function fingerprint(): Promise<string> {
  const parts = tables.map((t) => `SELECT '${t}' AS t, count(*)::text AS n, coalesce(max(xmin::text::bigint), 0)::text AS x FROM "${t}"`);
  const rows = await cluster.db.prisma.$queryRawUnsafe<{ t: string; n: string; x: string }[]>(parts.join(' UNION ALL '));
  return rows.map((r) => `${r.t}:${r.n}:${r.x}`).join('|');
}

// ---------------------------------------------------------------------------------------------
// Generators

/** encodeURIComponent throws on a lone surrogate; such a string goes out as a broken escape instead. */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ff';
  }
};
const badEscapes = fc.constantFrom('%', '%ff', '%E0%A4%A', '%C0%AF', '%zz', '%00', '%2e%2e%2f', '%u0041', '%%', '%E2%82');
const hostileStrings = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  badEscapes,
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '../../etc/passwd',
    'null',
    'undefined',
    'NaN',
    '-1',
    '1e309',
    ' ',
    '\u0000',
    '\ud800',
    "' OR 1=1 --",
    '<script>',
  ),
  fc.string({ minLength: 300, maxLength: 2_000 }),
);
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('google', 'apple', 'x1') },
  { weight: 3, arbitrary: fc.constant('__ID__') },
  { weight: 4, arbitrary: hostileStrings.map((s) => (s.includes('%') ? s : enc(s))) },
  { weight: 2, arbitrary: badEscapes },
);

/** Values shaped by a JSON schema, so generated bodies often get past the first validation step. */
function fromSchema(schema: Json | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const alts = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (alts?.length) return fc.oneof(...alts.map((s) => fromSchema(s, depth + 1)));
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Json>;
      const required = new Set((schema.required ?? []) as string[]);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props))
        record[k] =
          /id$/i.test(k) && s.type === 'string' ? fc.constantFrom('__ID__', '__VENUE__', '__FRIEND__', 'x1') : fromSchema(s, depth + 1);
      return fc.record(record, { requiredKeys: Object.keys(record).filter((k) => required.has(k)) });
    }
    case 'array':
      return fc.array(fromSchema(schema.items as Json | undefined, depth + 1), { maxLength: 4 });
    case 'string':
      return fc.oneof(fc.constantFrom('a@b.co', '+14155550123', '123456', 'x'.repeat(24)), fc.string({ maxLength: 30 }));
    case 'integer':
      return fc.oneof(fc.integer({ min: -10, max: 10_000 }), fc.constantFrom(0, 50, 500, 2 ** 53));
    case 'number':
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(40.7128, -74.006));
    case 'boolean':
      return fc.boolean();
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Mutations of a (maybe valid) value: wrong types, extra and dangerous keys, deep nesting. */
function mutate(base: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: base },
    {
      weight: 2,
      arbitrary: fc
        .tuple(base, fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }))
        .map(([b, k, v]) => (b && typeof b === 'object' && !Array.isArray(b) ? { ...b, [k]: v } : b)),
    },
    {
      weight: 1,
      arbitrary: base.map((b) =>
        b && typeof b === 'object' ? JSON.parse(JSON.stringify(b).replace(/^\{/, '{"__proto__":{"admin":true},')) : b,
      ),
    },
    {
      weight: 1,
      arbitrary: base.map((b) => (b && typeof b === 'object' ? Object.fromEntries(Object.entries(b).map(([k]) => [k, null])) : b)),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.integer({ min: 30, max: 3_000 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 30, max: 1_500 }).map((n) => JSON.parse('{"a":'.repeat(n) + '1' + '}'.repeat(n)) as unknown),
    },
  );
}

const rawBodies = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.constantFrom('', '{', '{"a":', 'null', '[]', '"str"', '1', 'true', '{"a":1}garbage', '\u0000', '{"a":"\ud800"}'),
  fc.integer({ min: 66_000, max: 90_000 }).map((n) => JSON.stringify({ message: 'x'.repeat(n) })),
);

const contentTypes = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=z',
      'application/xml',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/merge-patch+json',
      '',
      'application/json, text/html',
      '*/*',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const auths = fc.oneof(
  { weight: 6, arbitrary: fc.constant('valid') },
  { weight: 1, arbitrary: fc.constant('ghost') },
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', 'Bearer a.b.c', 'bearer   x')),
  },
);
const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('lat', 'lng', 'radius', 'limit', 'role', 'status', 'cursor', 'a[b]', 'a[]', '__proto__[x]'),
        fc.string({ maxLength: 8 }),
      ),
      fc.oneof(hostileStrings, fc.constantFrom('40.7128', '-74.006', '1km', '5', 'buyer', 'PAID')),
    ),
    { maxLength: 5 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k.includes('%') ? k : enc(k)}=${v.includes('%') ? v : enc(v)}`).join('&'));

interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  body: string | undefined;
  auth: string | undefined;
  headers: Record<string, string>;
}

function requestArb(): fc.Arbitrary<FuzzRequest> {
  const perOp = operations.map((op) =>
    fc
      .record({
        method: fc.oneof(
          { weight: 9, arbitrary: fc.constant(op.method) },
          { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS') },
        ),
        segments: fc.array(segment, { minLength: 4, maxLength: 4 }),
        query: fc.oneof(fc.constant(''), queryString),
        contentType: contentTypes,
        body: fc.oneof(
          { weight: 4, arbitrary: mutate(fromSchema(op.body)).map((v) => JSON.stringify(v)) },
          { weight: 1, arbitrary: rawBodies },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        auth: auths,
        headers: fc.record(
          {
            'Idempotency-Key': fc.oneof(fc.string({ maxLength: 80 }), fc.constant('fuzz-key-1')),
            'X-Forwarded-For': fc.oneof(fc.ipV4(), fc.string({ maxLength: 20 })),
            Accept: fc.constantFrom('application/json', 'text/html', '*/*', 'garbage'),
            'Content-Encoding': fc.constantFrom('gzip', 'br', 'identity', 'bogus'),
          },
          { requiredKeys: [] },
        ),
      })
      .map(({ method, segments, query, contentType, body, auth, headers }) => {
        let i = 0;
        const path = op.path.replace(/\{[^}]+\}/g, () => segments[i++ % segments.length]!);
        return { method, path, query, contentType, body, auth, headers };
      }),
  );
  const unknownPath = fc.record({
    method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
    path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/api/${s.join('/')}`),
    query: queryString,
    contentType: contentTypes,
    body: fc.option(rawBodies, { nil: undefined }),
    auth: auths,
    headers: fc.constant({}),
  });
  return fc.oneof({ weight: 12, arbitrary: fc.oneof(...perOp) }, { weight: 1, arbitrary: unknownPath });
}

const fill = (s: string) => s.replaceAll('__ID__', userId).replaceAll('__VENUE__', venueId).replaceAll('__FRIEND__', friendId);

async function send(r: FuzzRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (/^[\x20-\x7e]*$/.test(v)) headers[k] = v;
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  // A fresh token each time: a fuzzed logout-all may have ended the previous ones, as it should.
  if (r.auth === 'valid') headers.authorization = `Bearer ${cluster.tokens.sign(userId)}`;
  else if (r.auth === 'ghost') headers.authorization = `Bearer ${ghostToken}`;
  else if (r.auth !== undefined && /^[\x20-\x7e]*$/.test(r.auth)) headers.authorization = r.auth;
  const hasBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
  const res = await fetch(`${node.url}${fill(r.path)}${r.query ? `?${fill(r.query)}` : ''}`, {
    method: r.method,
    headers,
    ...(hasBody ? { body: fill(r.body!) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

function expectCoded(status: number, text: string, what: string): void {
  if (status < 400) return;
  let code: unknown;
  try {
    code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
  } catch {
    /* not JSON */
  }
  if (typeof code !== 'string' || !KNOWN_CODES.has(code))
    throw new Error(`${what}: ${status} without a machine-readable code: ${text.slice(0, 200)}`);
}

function alive(): void {
  if (node.proc.exitCode !== null || node.proc.signalCode !== null)
    throw new Error(`server process died:\n${node.output.join('').slice(-4_000)}`);
}

const replay = (err: unknown) =>
  new Error(`fuzz failed (replay with FUZZ_SEED=${SEED}): ${String(err instanceof Error ? err.message : err)}`);

describe(`fuzzing every route and event (seed ${SEED})`, () => {
  it(`${HTTP_RUNS} generated and mutated HTTP requests: no 5xx, coded refusals, refused requests change nothing`, async () => {
    let refusedWrites = 0;
    try {
      await fc.assert(
        fc.asyncProperty(requestArb(), async (r) => {
          const write = r.method !== 'GET' && r.method !== 'HEAD' && r.method !== 'OPTIONS';
          const before = write ? await fingerprint() : '';
          const { status, text } = await send(r);
          alive();
          const what = `${r.method} ${r.path}?${r.query}`;
          if (status >= 500) throw new Error(`${what}: ${status} ${text.slice(0, 300)}`);
          if (r.method !== 'HEAD') expectCoded(status, text, what);
          if (write && status >= 400) {
            refusedWrites++;
            const after = await fingerprint();
            if (after !== before) throw new Error(`${what}: refused with ${status} but stored state changed`);
          }
        }),
        { numRuns: HTTP_RUNS, seed: SEED, endOnFailure: true },
      );
    } catch (err) {
      throw replay(err);
    }
    expect(refusedWrites).toBeGreaterThan(HTTP_RUNS / 4);
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
  }, 600_000);

  it(`${SOCKET_RUNS} generated socket payloads at every client event: coded acks, refused events change no count`, async () => {
    const events = [...Object.values(ClientEvent), 'no:such:event', 'constructor', '__proto__'];
    const token = cluster.tokens.sign(userId);
    const venues = await cluster.db.prisma.venue.findMany({ select: { id: true, latitude: true, longitude: true } });
    const venue = venues[0]!;
    const connect = (t?: string) => cluster.connect(node, t);
    const sockets: TestClient[] = [await connect(token), await connect()];
    const validish = fc.oneof(
      fc.record(
        {
          venueId: fc.constantFrom(venue.id, 'nope', ''),
          lat: fc.oneof(fc.constant(venue.latitude), fc.double()),
          lng: fc.oneof(fc.constant(venue.longitude), fc.double()),
        },
        { requiredKeys: [] },
      ),
      fc.record({ venueIds: fc.array(fc.constantFrom(venue.id, 'x', '%ff'), { maxLength: 300 }) }),
      fc.record({ bbox: fc.array(fc.double(), { maxLength: 5 }) }),
      fc.record({ token: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(token), fc.constant(ghostToken)) }),
      fc.record({ wantsToBuy: fc.anything(), visible: fc.anything() }, { requiredKeys: [] }),
    );
    const payloads = fc.oneof(
      mutate(validish),
      fc.anything({ maxDepth: 3 }),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    );
    const counts = async () => JSON.stringify([...(await cluster.store.getCounts(venues.map((v) => v.id))).values()].map((c) => c.count));
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...events),
          payloads,
          fc.integer({ min: 0, max: 1 }),
          fc.constantFrom('ack', 'ack', 'ack', 'none', 'extra'),
          async (event, payload, who, shape) => {
            let socket = sockets[who]!;
            if (!socket.connected) socket = sockets[who] = await connect(who === 0 ? cluster.tokens.sign(userId) : undefined);
            const emitter = socket as unknown as { emit(...a: unknown[]): void; timeout(ms: number): { emit(...a: unknown[]): void } };
            const known = (Object.values(ClientEvent) as string[]).includes(event);
            // Unknown events have no handler and so no ack: send them and move on.
            if (shape !== 'ack' || !known) {
              emitter.emit(event, payload, ...(shape === 'extra' ? [1, 'two', null] : []));
              return;
            }
            const before = await counts();
            const ack = await new Promise<Ack<unknown> | 'none'>((res) =>
              emitter.timeout(2_000).emit(event, payload, (err: unknown, a: Ack<unknown>) => res(err ? 'none' : a)),
            );
            alive();
            // A socket closed under the emit (an oversized frame) has no ack to give; it must still not crash the node.
            if (ack === 'none') {
              if (socket.connected) throw new Error(`${event} ${JSON.stringify(payload)?.slice(0, 200)}: no ack`);
              return;
            }
            if (!ack.ok) {
              if (!KNOWN_CODES.has(ack.error.code) || ack.error.code === 'INTERNAL')
                throw new Error(`${event}: ack ${JSON.stringify(ack.error)}`);
              if ((await counts()) !== before) throw new Error(`${event}: refused with ${ack.error.code} but a count changed`);
            }
          },
        ),
        { numRuns: SOCKET_RUNS, seed: SEED, endOnFailure: true },
      );
    } catch (err) {
      throw replay(err);
    }
    alive();
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    const logged = node.output.join('');
    expect(logged).not.toMatch(/unhandled error in HTTP route|socket handler failed/);
  }, 600_000);
});

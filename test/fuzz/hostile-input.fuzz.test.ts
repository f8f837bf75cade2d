import { readFileSync } from 'node:fs';
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
 * Part of `npm test`, bounded: FUZZ_HTTP_RUNS (7,000) requests and FUZZ_SOCKET_RUNS (3,500) socket
 * events, 10,500 inputs in one to two minutes on a shared two-core machine. The seed is fixed so a CI failure replays exactly; set
 * FUZZ_SEED to explore others (FUZZ_STATS=1 prints each operation's answers).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 15_2026);
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 7_000);
const SOCKET_RUNS = Number(process.env.FUZZ_SOCKET_RUNS ?? 3_500);
/** Requests (and socket events) sent at once: a property run is one such batch. */
const BATCH = Number(process.env.FUZZ_BATCH ?? 4);
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
let friendToken: string;
/** Stand-ins the generators use, replaced by the ids of real objects just before a request leaves. */
let placeholders: Record<string, string> = {};
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
  await prisma.venueStaff.create({ data: { venueId, userId } });
  const ghost = await prisma.user.create({ data: { displayName: 'Ghost', email: `ghost-${stamp}@test.treatme.dev` } });
  ghostToken = cluster.tokens.sign(ghost.id);
  await prisma.user.delete({ where: { id: ghost.id } });

  // Real objects of every kind a path or body can name, made through the API as a client would, so
  // generated requests reach past "not found" into the routes' own checks and state machines.
  const call = async (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${node.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body ?? {}),
    });
    const json = (await res.json()) as Json;
    if (res.status >= 300) throw new Error(`fixture ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const me = cluster.tokens.sign(userId);
  const friend = cluster.tokens.sign(friendId);
  const group = (await call('POST', '/api/groups', me, { name: 'Fuzz group' })).group as Json;
  const invite = await call('POST', `/api/groups/${String(group.id)}/invites`, me, { userId: friendId });
  await call('POST', '/api/devices', me, { token: 'fuzz-device-token-0001', platform: 'IOS' });
  const buy = (key: string) =>
    call(
      'POST',
      '/api/orders',
      me,
      { recipientId: friendId, venueId, paymentMethod: 'STRIPE', amountCents: 500 },
      { 'Idempotency-Key': key },
    );
  const paid = await buy(`fuzz-order-${stamp}-1`);
  const pending = await buy(`fuzz-order-${stamp}-2`);
  const paidId = String((paid.order as Json).id);
  await call('POST', `/api/dev/payments/${String((paid.payment as Json).paymentIntentId)}/succeed`, me);
  const accepted = await call('POST', `/api/orders/${paidId}/accept`, friend);
  placeholders = {
    __ID__: userId,
    __FRIEND__: friendId,
    __VENUE__: venueId,
    __GROUP__: String(group.id),
    __INVITE__: String(invite.inviteCode),
    __DEVICE__: 'fuzz-device-token-0001',
    __ORDER__: paidId,
    __ORDER2__: String((pending.order as Json).id),
    __PI__: String((pending.payment as Json).paymentIntentId),
    __REDEMPTION__: String((accepted.redemption as Json).id),
    __QR__: String(accepted.qrCode),
    __MENU__: (await prisma.menuItem.findFirstOrThrow({ where: { venueId, available: true } })).id,
    __ACCESS__: me,
    __GHOST__: ghostToken,
  };
  friendToken = friend;

  const doc = (await (await fetch(`${node.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Json>> };
  refRoot = doc as unknown as Json;
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

/** Which tables two fingerprints disagree on, for the failure message. */
const changedTables = (before: string, after: string) => {
  const b = new Set(before.split('|'));
  return after
    .split('|')
    .filter((t) => !b.has(t))
    .map((t) => t.split(':')[0])
    .join(', ');
};

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
  // Long values, built by repetition: generating them character by character cost more than sending them.
  fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 40, max: 250 })).map(([s, n]) => s.repeat(n)),
);
const ids = fc.constantFrom(
  '__ID__',
  '__FRIEND__',
  '__VENUE__',
  '__GROUP__',
  '__ORDER__',
  '__ORDER2__',
  '__REDEMPTION__',
  '__MENU__',
  'x1',
);
const hostileSegment = fc.oneof(
  { weight: 4, arbitrary: hostileStrings.map((s) => (s.includes('%') ? s : enc(s))) },
  { weight: 2, arbitrary: badEscapes },
);
/** A path parameter: often what its schema allows (an enum value, a real object's id), else hostile. */
function segmentFor(schema: Json | undefined): fc.Arbitrary<string> {
  const good = Array.isArray(schema?.enum)
    ? fc.constantFrom(...(schema.enum as string[]))
    : fc.oneof(ids, fc.constantFrom('__DEVICE__', '__PI__'));
  return fc.oneof({ weight: 6, arbitrary: good }, { weight: 4, arbitrary: hostileSegment });
}
const segment = fc.oneof(ids, hostileSegment);

/** Fields whose good values only a real object has: a real QR code, invite, device token or refresh token. */
const keyed: Record<string, fc.Arbitrary<unknown>> = {
  code: fc.oneof(fc.constant('__QR__'), fc.constantFrom('123456', '000000')),
  inviteCode: fc.oneof(fc.constant('__INVITE__'), fc.string({ minLength: 20, maxLength: 40 })),
  token: fc.oneof(fc.constantFrom('__DEVICE__', '__ACCESS__', '__GHOST__'), fc.string({ minLength: 8, maxLength: 40 })),
  venueId: fc.oneof({ weight: 3, arbitrary: fc.constant('__VENUE__') }, { weight: 1, arbitrary: ids }),
};

/** Document-local `$ref`s (`#/components/schemas/X`), looked up in the document being fuzzed. */
let refRoot: Json = {};
const resolveRef = (ref: string): Json | undefined =>
  ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<Json | undefined>((o, k) => o?.[k] as Json | undefined, refRoot);

/** Values shaped by a JSON schema, so generated bodies often get past the first validation step. */
function fromSchema(schema: Json | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (typeof schema.$ref === 'string') return fromSchema(resolveRef(schema.$ref), depth + 1);
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
          keyed[k] ?? (/id$/i.test(k) && s.type === 'string' ? fc.oneof(ids, fromSchema(s, depth + 1)) : fromSchema(s, depth + 1));
      return fc.record(record, { requiredKeys: Object.keys(record).filter((k) => required.has(k)) });
    }
    case 'array':
      if (Array.isArray(schema.items)) return fc.tuple(...(schema.items as Json[]).map((s) => fromSchema(s, depth + 1)));
      return fc.array(fromSchema(schema.items as Json | undefined, depth + 1), { maxLength: 4 });
    case 'string':
      return fc.oneof(fc.constantFrom('a@b.co', '+14155550123', '123456', 'x'.repeat(24)), fc.string({ maxLength: 30 }));
    case 'integer': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : -10;
      const max = typeof schema.maximum === 'number' ? schema.maximum : 10_000;
      return fc.oneof(
        fc.integer({ min, max }),
        fc.integer({ min: -10, max: 10_000 }),
        fc.constantFrom(0, 50, 500, 2 ** 53, min - 1, max + 1),
      );
    }
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : -1e6;
      const max = typeof schema.maximum === 'number' ? schema.maximum : 1e6;
      return fc.oneof(
        fc.double({ min, max, noNaN: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(40.7128, -74.006, min, max),
      );
    }
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
        b && typeof b === 'object' && !Array.isArray(b)
          ? (JSON.parse(
              JSON.stringify(b).replace(/^\{(?=.)/, (m) => `${m}"__proto__":{"admin":true}${Object.keys(b).length ? ',' : ''}`),
            ) as unknown)
          : b,
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

/** Present in about one request in five. */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const contentTypes = fc.oneof(
  { weight: 20, arbitrary: fc.constant('application/json') },
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
  // Mostly signed in, so requests reach the routes' own checks; the rest probe the credential check.
  { weight: 8, arbitrary: fc.constant('valid') },
  { weight: 3, arbitrary: fc.constant('friend') },
  { weight: 1, arbitrary: fc.constant('ghost') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', 'Bearer a.b.c', 'bearer   x')),
  },
);
const queryValue = fc.oneof(hostileStrings, fc.constantFrom('40.7128', '-74.006', '1km', '5', 'buyer', 'PAID', '__VENUE__'));
/** A query string: the operation's own parameters (values shaped by their schemas) mixed with junk keys. */
function queryFor(params: Operation['params']): fc.Arbitrary<string> {
  const own = params.filter((p) => p.in === 'query');
  const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  // Each of the operation's own parameters, usually present with a value its schema allows...
  const ownPairs = fc.tuple(
    ...own.map((p) =>
      fc.oneof(
        { weight: 3, arbitrary: fromSchema(p.schema).map((v) => [p.name, asText(v)] as const) },
        { weight: 1, arbitrary: queryValue.map((v) => [p.name, v] as const) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
    ),
  );
  // ...and now and then junk: unknown keys, bracket syntax, prototype names, repeated keys.
  const junkKey = fc.oneof(
    fc.constantFrom('lat', 'lng', 'radius', 'limit', 'cursor', 'a[b]', 'a[]', '__proto__[x]', 'constructor', ...own.map((p) => p.name)),
    fc.string({ maxLength: 8 }),
  );
  const junk = fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as (readonly [string, string])[]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(junkKey, queryValue), { minLength: 1, maxLength: 4 }) },
  );
  return fc
    .tuple(ownPairs, junk)
    .map(([mine, extra]) => [...mine.filter((p) => p !== undefined), ...extra])
    .map((pairs) => pairs.map(([k, v]) => `${k.includes('%') ? k : enc(k)}=${v.includes('%') ? v : enc(v)}`).join('&'));
}
const queryString = queryFor([]);

interface FuzzRequest {
  /** The document's operation (`POST /api/orders/{id}/accept`), or `unknown` for an invented path. */
  op: string;
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  body: string | undefined;
  auth: string | undefined;
  headers: Record<string, string>;
}

/** The path's `{name}` parameters in order, with their schemas where the document gives them. */
const pathParams = (op: Operation) =>
  [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => op.params.find((p) => p.in === 'path' && p.name === m[1]));

function requestArb(): fc.Arbitrary<FuzzRequest> {
  const perOp = operations.map((op) =>
    fc
      .record({
        method: fc.oneof(
          { weight: 9, arbitrary: fc.constant(op.method) },
          { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS') },
        ),
        segments: fc.tuple(...pathParams(op).map((p) => segmentFor(p?.schema))),
        query: fc.oneof(fc.constant(''), queryFor(op.params)),
        contentType: contentTypes,
        body: fc.oneof(
          { weight: 4, arbitrary: mutate(fromSchema(op.body)).map((v) => JSON.stringify(v)) },
          { weight: 1, arbitrary: rawBodies },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        auth: auths,
        // Each header now and then, so most requests still get past the transport to the route.
        headers: fc
          .record({
            'Idempotency-Key': fc.oneof(
              { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9-]{8,40}$/) },
              { weight: 1, arbitrary: fc.constant('fuzz-key-1') },
              { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
              { weight: 1, arbitrary: fc.constant(undefined) },
            ),
            'X-Forwarded-For': rarely(fc.oneof(fc.ipV4(), fc.string({ maxLength: 20 }))),
            Accept: rarely(fc.constantFrom('application/json', 'text/html', '*/*', 'garbage')),
            'Content-Encoding': rarely(fc.constantFrom('gzip', 'br', 'identity', 'bogus')),
            'Content-Language': rarely(hostileStrings),
          })
          .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>),
      })
      .map(({ method, segments, query, contentType, body, auth, headers }) => {
        let i = 0;
        const path = op.path.replace(/\{[^}]+\}/g, () => segments[i++]!);
        return { op: `${op.method} ${op.path}`, method, path, query, contentType, body, auth, headers };
      }),
  );
  const unknownPath = fc.record({
    op: fc.constant('unknown'),
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

const fill = (s: string) => s.replace(/__[A-Z0-9]+__/g, (m) => placeholders[m] ?? m);

async function send(r: FuzzRequest): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (/^[\x20-\x7e]*$/.test(v)) headers[k] = v;
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  // A fresh token each time: a fuzzed logout-all may have ended the previous ones, as it should.
  if (r.auth === 'valid') headers.authorization = `Bearer ${cluster.tokens.sign(userId)}`;
  else if (r.auth === 'friend') headers.authorization = `Bearer ${friendToken}`;
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

/** Placeholders inside a JSON-shaped socket payload, replaced as in HTTP bodies. */
const fillPayload = (v: unknown): unknown => (v !== null && typeof v === 'object' ? (JSON.parse(fill(JSON.stringify(v))) as unknown) : v);

describe(`fuzzing every route and event (seed ${SEED})`, () => {
  it(`${HTTP_RUNS} generated and mutated HTTP requests: no 5xx, coded refusals, refused requests change nothing`, async () => {
    let refusedWrites = 0;
    const perOp = new Map<string, Map<number, number>>();
    // The state a batch of refusals left is the state the next batch starts from, unless something was
    // allowed in between: then it is read again. Halves the cost of the check without weakening it.
    let known: string | undefined;
    const isWrite = (r: FuzzRequest) => r.method !== 'GET' && r.method !== 'HEAD' && r.method !== 'OPTIONS';
    try {
      await fc.assert(
        // Requests go in concurrent batches: races between hostile requests are part of the test, and
        // the server, not the round trip, sets the pace.
        fc.asyncProperty(fc.array(requestArb(), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
          const writes = batch.some(isWrite);
          const before = writes ? (known ?? (await fingerprint())) : '';
          const answers = await Promise.all(batch.map(send));
          alive();
          batch.forEach((r, i) => {
            const { status, text } = answers[i]!;
            const seen = perOp.get(r.op) ?? new Map<number, number>();
            perOp.set(r.op, seen.set(status, (seen.get(status) ?? 0) + 1));
            const what = `${r.method} ${r.path}?${r.query}`;
            if (status >= 500) throw new Error(`${what}: ${status} ${text.slice(0, 300)}`);
            if (r.method !== 'HEAD') expectCoded(status, text, what);
          });
          // Every write refused (reads write nothing): then nothing stored may have moved.
          if (writes && batch.every((r, i) => !isWrite(r) || answers[i]!.status >= 400)) {
            refusedWrites += batch.filter(isWrite).length;
            const after = await fingerprint();
            if (after !== before) {
              const refused = batch.map((r, i) => `${r.method} ${r.path} → ${answers[i]!.status}`);
              throw new Error(`refused, but stored state changed: ${refused.join('; ')} (${changedTables(before, after)})`);
            }
            known = after;
          } else if (answers.some((a) => a.status < 400)) {
            known = undefined;
          }
        }),
        { numRuns: Math.ceil(HTTP_RUNS / BATCH), seed: SEED, endOnFailure: true },
      );
    } catch (err) {
      throw replay(err);
    }
    if (process.env.FUZZ_STATS) {
      for (const [op, seen] of [...perOp].sort()) console.log(op, JSON.stringify(Object.fromEntries(seen)));
      // Where the time went on a shared machine: this worker's CPU (generating, checking) and the server's.
      const ticks = readFileSync(`/proc/${node.proc.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const cpu = process.cpuUsage();
      console.log(
        `cpu: fuzzer ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, server ${((Number(ticks[11]) + Number(ticks[12])) / 100).toFixed(1)} s`,
      );
    }
    // Every operation of the document was hit, not just the ones the generators happen to favour.
    if (HTTP_RUNS >= 40 * operations.length) {
      const missed = operations
        .map((o) => `${o.method} ${o.path}`)
        .filter((op) => [...(perOp.get(op)?.values() ?? [])].reduce((a, b) => a + b, 0) < 10);
      expect(missed).toEqual([]);
    }
    expect(refusedWrites).toBeGreaterThan(HTTP_RUNS / 4);
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    expect(node.output.join('')).not.toMatch(/unhandled error in HTTP route/);
  }, 600_000);

  it(`${SOCKET_RUNS} generated socket payloads at every client event: coded acks, refused events change nothing`, async () => {
    const asyncDoc = (await (await fetch(`${node.url}/api/asyncapi.json`)).json()) as { components: { schemas: Record<string, Json> } };
    refRoot = asyncDoc as unknown as Json;
    const known = Object.values(ClientEvent) as string[];
    // Each event's payload shaped by its schema in the served AsyncAPI document, then mutated.
    const perEvent = known.map((event) => {
      const schema = asyncDoc.components.schemas[`${event.replace(':', '.')}.payload`];
      expect(schema, `${event} has a payload schema in the AsyncAPI document`).toBeDefined();
      return fc.tuple(fc.constant(event), mutate(fromSchema(schema)).map(fillPayload));
    });
    const junk = fc.tuple(
      fc.constantFrom(...known, 'no:such:event', 'constructor', '__proto__', 'connect', 'disconnect'),
      fc.oneof(
        fc.anything({ maxDepth: 3 }),
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        fc.array(fc.constant(venueId), { minLength: 150, maxLength: 400 }).map((venueIds) => ({ venueIds })),
        fc.string({ minLength: 5_000, maxLength: 20_000 }).map((token) => ({ token })),
      ),
    );
    const connect = (t?: string) => cluster.connect(node, t);
    const sockets: TestClient[] = [await connect(cluster.tokens.sign(userId)), await connect()];
    // What a refused event must leave alone: the venue's count and the user's stay as the store has it.
    const state = async () => {
      const count = (await cluster.store.getCounts([venueId])).get(venueId)?.count ?? 0;
      const p = await cluster.store.get(userId, Date.now());
      return JSON.stringify([count, p && [p.venueId, p.wantsToBuy, p.wantsToReceive, p.visible]]);
    };
    let refused = 0;
    let known_: string | undefined;
    const emitOne = async ([event, payload]: [string, unknown], who: number, shape: string): Promise<'sent' | 'closed' | Ack<unknown>> => {
      // A known event sent without an ack could move state unseen: only the anonymous socket sends those.
      if (shape !== 'ack' && known.includes(event)) who = 1;
      let socket = sockets[who]!;
      if (!socket.connected) socket = sockets[who] = await connect(who === 0 ? cluster.tokens.sign(userId) : undefined);
      const emitter = socket as unknown as { emit(...a: unknown[]): void; timeout(ms: number): { emit(...a: unknown[]): void } };
      // Unknown events have no handler and so no ack: send them and move on. Reserved names
      // (`connect`, `disconnect`) the client itself refuses to emit; that refusal is no finding.
      if (shape !== 'ack' || !known.includes(event)) {
        try {
          emitter.emit(event, payload, ...(shape === 'extra' ? [1, 'two', null] : []));
        } catch (err) {
          if (!/is a reserved event name/.test(String(err))) throw err;
        }
        return 'sent';
      }
      const ack = await new Promise<Ack<unknown> | 'none'>((res) =>
        emitter.timeout(5_000).emit(event, payload, (err: unknown, a: Ack<unknown>) => res(err ? 'none' : a)),
      );
      // A socket closed under the emit (an oversized frame) has no ack to give; it must still not crash the node.
      if (ack === 'none') {
        if (socket.connected) throw new Error(`${event} ${JSON.stringify(payload)?.slice(0, 200)}: no ack`);
        return 'closed';
      }
      if (!ack.ok && (!KNOWN_CODES.has(ack.error.code) || ack.error.code === 'INTERNAL'))
        throw new Error(`${event}: ack ${JSON.stringify(ack.error)}`);
      return ack;
    };
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.tuple(
              fc.oneof({ weight: 4, arbitrary: fc.oneof(...perEvent) }, { weight: 1, arbitrary: junk }),
              fc.integer({ min: 0, max: 1 }),
              fc.constantFrom('ack', 'ack', 'ack', 'none', 'extra'),
            ),
            { minLength: BATCH, maxLength: BATCH },
          ),
          async (batch) => {
            const before = known_ ?? (await state());
            const results = await Promise.all(batch.map(([ev, who, shape]) => emitOne(ev, who, shape)));
            alive();
            const acks = results.filter((r): r is Ack<unknown> => typeof r === 'object');
            if (acks.some((a) => a.ok)) {
              known_ = undefined;
              return;
            }
            if (acks.length === 0) return;
            refused += acks.length;
            const after = await state();
            if (after !== before) {
              const what = batch.map(([[ev], , shape], i) => `${ev}/${shape} → ${JSON.stringify(results[i]).slice(0, 80)}`);
              throw new Error(`refused, but the stay or count changed (${before} → ${after}): ${what.join('; ')}`);
            }
            known_ = after;
          },
        ),
        { numRuns: Math.ceil(SOCKET_RUNS / BATCH), seed: SEED, endOnFailure: true },
      );
    } catch (err) {
      throw replay(err);
    }
    expect(refused).toBeGreaterThan(SOCKET_RUNS / 10);
    alive();
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    const logged = node.output.join('');
    expect(logged).not.toMatch(/unhandled error in HTTP route|socket handler failed/);
  }, 600_000);
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors';
import { ClientEvent, ServerEvent } from '../../protocol/events';
import { httpOperations } from '../../protocol/http/operations';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ SEED_DEMO_DATA: 'false' }, { label: 'openapi' });
});
afterAll(() => ts?.close());

type Doc = { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, any>>; components: any };
const openApi = async () => (await (await fetch(`${ts.url}/api/openapi.json`)).json()) as Doc;

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every (method, path) the Express app serves, found by walking its router and the routers mounted in it. */
function servedRoutes(stack: Layer[]): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const path of [layer.route.path].flat()) {
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') out.push({ method, path });
      }
    } else if (layer.handle?.stack) out.push(...servedRoutes(layer.handle.stack));
  }
  return out;
}

/** `/api/dev/payments/:id/:outcome` is covered by `/api/dev/payments/{paymentIntentId}/succeed`: a served `:param` matches any segment. */
function documents(docPath: string, servedPath: string): boolean {
  const d = docPath.split('/');
  const s = servedPath.split('/');
  return d.length === s.length && s.every((seg, i) => seg.startsWith(':') || seg === d[i]);
}

describe('API documentation', () => {
  it('serves an OpenAPI 3 document generated from the same zod schemas the routes validate with', async () => {
    const res = await fetch(`${ts.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toMatch(/^3\./);
    for (const op of httpOperations) expect(doc.paths[op.path]?.[op.method], `${op.method} ${op.path}`).toBeDefined();
    const nearby = doc.paths['/api/venues']!.get;
    expect(nearby.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['lat', 'limit', 'lng', 'radius']);
    const devLogin = doc.paths['/api/auth/dev-login']!.post;
    expect(devLogin.requestBody.content['application/json'].schema.required).toEqual(['email']);
    expect(devLogin.responses['400'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
    expect(doc.paths['/api/groups']!.post.security).toEqual([{ bearer: [] }]);
  });

  it('documents every route the server serves (walks the Express router)', async () => {
    const doc = await openApi();
    const served = servedRoutes((ts.server.app as unknown as { router: { stack: Layer[] } }).router.stack);
    expect(served.length).toBeGreaterThan(40);
    const missing = served.filter(
      ({ method, path }) =>
        !Object.entries(doc.paths).some(([p, ops]) => ops[method] && (p === path.replace(/:(\w+)/g, '{$1}') || documents(p, path))),
    );
    expect(missing, 'served but not in /api/openapi.json (declare them in protocol/http/operations.ts)').toEqual([]);
  });

  it('types headers, numeric query values, security, servers and each operation’s own errors', async () => {
    const doc = await openApi();
    expect(doc.servers[0]!.url).toBe(ts.url);
    const create = doc.paths['/api/orders']!.post;
    const key = create.parameters.find((p: { name: string }) => p.name === 'Idempotency-Key');
    expect(key).toMatchObject({ in: 'header', required: true, schema: { type: 'string', minLength: 8 } });
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '402', '409', '422', '429']));
    const nearby = Object.fromEntries(
      doc.paths['/api/venues']!.get.parameters.map((p: { name: string; schema: unknown }) => [p.name, p.schema]),
    );
    expect(nearby.lat).toMatchObject({ type: 'number', minimum: -90, maximum: 90 });
    expect(nearby.limit).toMatchObject({ type: 'integer' });
    expect(doc.paths['/api/orders']!.get.parameters.find((p: { name: string }) => p.name === 'limit').schema.type).toBe('integer');
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.security, `${method} ${path} security`).toBeDefined();
        expect(op.responses['429'].headers['Retry-After'], `${method} ${path} Retry-After`).toBeDefined();
      }
    }
    expect(doc.paths['/health']!.get.security).toEqual([]);
    expect(doc.paths['/health']!.get.responses['400']).toBeUndefined();
    expect(doc.paths['/api/venues/{id}']!.get.responses['404']).toBeDefined();
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(Object.values(ErrorCode));
  });

  it('passes Redocly’s recommended lint', async () => {
    const cli = 'node_modules/@redocly/cli/bin/cli.js';
    expect(existsSync(cli), '@redocly/cli is a dev dependency').toBe(true);
    const file = join(mkdtempSync(join(tmpdir(), 'treatme-openapi-')), 'openapi.json');
    const doc = await openApi();
    // Redocly warns on a localhost server URL; the served document names whatever host it was asked on.
    writeFileSync(file, JSON.stringify({ ...doc, servers: [{ url: 'https://api.treatme.dev', description: 'production' }] }));
    const r = spawnSync(process.execPath, [cli, 'lint', '--extends', 'recommended', '--format', 'json', file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const report = JSON.parse(r.stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('every documented path is served (no 404 from the router for any documented operation)', async () => {
    for (const op of httpOperations) {
      const path = op.path.replace('{provider}', 'google').replace(/\{[^}]+\}/g, 'x1');
      const res = await fetch(`${ts.url}${path}`, {
        method: op.method.toUpperCase(),
        headers: { 'content-type': 'application/json' },
        ...(op.method === 'get' ? {} : { body: '{}' }),
      });
      const isJson = res.headers.get('content-type')?.includes('application/json');
      const body = res.status === 204 || !isJson ? null : ((await res.json()) as { error?: { message: string } });
      expect(body?.error?.message ?? '', `${op.method} ${path}`).not.toMatch(/^No route/);
      if (!isJson) expect(res.status, `${op.method} ${path}`).not.toBe(404);
    }
  });

  it('serves a docs page with every operation, its schemas and examples, without any external asset', async () => {
    const res = await fetch(`${ts.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    for (const op of httpOperations) expect(html).toContain(op.path);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="https?:/);
    // The order body's schema and an example of it, and the Idempotency-Key header parameter.
    const orders = html.slice(html.indexOf('id="post/api/orders"'));
    expect(orders).toContain('Idempotency-Key');
    expect(orders).toMatch(/<b>Example<\/b><pre>\{\s+&#34;recipientId&#34;/);
    expect(orders).toContain('<summary>Schema</summary>');
  });
});

describe('socket protocol documentation', () => {
  it('serves an AsyncAPI 3 document that @asyncapi/parser validates, with every event, ack, error code and room', async () => {
    const res = await fetch(`${ts.url}/api/asyncapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { asyncapi: string; operations: Record<string, any>; channels: Record<string, any>; components: any };
    expect(doc.asyncapi).toMatch(/^3\./);
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`)).toEqual([]);
    expect(document).toBeDefined();
    for (const event of Object.values(ClientEvent)) {
      const op = doc.operations[event.replace(/:/g, '.')];
      expect(op?.action, event).toBe('receive');
      expect(op.reply.messages[0].$ref, `${event} ack`).toMatch(/\.ack$/);
    }
    for (const event of Object.values(ServerEvent)) expect(doc.operations[event.replace(/:/g, '.')]?.action, event).toBe('send');
    expect(doc.components.schemas.WireError.properties.code.enum).toEqual(Object.values(ErrorCode));
    expect(doc.components.schemas['presence.checkin.payload'].required).toEqual(['venueId', 'lat', 'lng']);
    expect(Object.values(doc.channels).map((c: { address: string }) => c.address)).toEqual(
      expect.arrayContaining(['venue:{venueId}', 'people:{venueId}', 'user:{userId}', 'staff:{venueId}', 'cell:{cell}']),
    );
    expect(document!.operations().all().length).toBe(Object.values(ClientEvent).length + Object.values(ServerEvent).length);
  });
});

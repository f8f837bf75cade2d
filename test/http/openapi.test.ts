import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpOperations } from '../../protocol/http/operations';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ SEED_DEMO_DATA: 'false' }, { label: 'openapi' });
});
afterAll(() => ts?.close());

describe('API documentation', () => {
  it('serves an OpenAPI 3 document generated from the same zod schemas the routes validate with', async () => {
    const res = await fetch(`${ts.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, any>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const op of httpOperations) expect(doc.paths[op.path]?.[op.method], `${op.method} ${op.path}`).toBeDefined();
    const nearby = doc.paths['/api/venues']!.get;
    expect(nearby.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['lat', 'limit', 'lng', 'radius']);
    const devLogin = doc.paths['/api/auth/dev-login']!.post;
    expect(devLogin.requestBody.content['application/json'].schema.required).toEqual(['email']);
    expect(devLogin.responses['400'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
    expect(doc.paths['/api/groups']!.post.security).toEqual([{ bearer: [] }]);
  });

  it('every documented path is served (no 404 from the router for any documented operation)', async () => {
    for (const op of httpOperations) {
      const path = op.path.replace('{provider}', 'google').replace(/\{[^}]+\}/g, 'x1');
      const res = await fetch(`${ts.url}${path}`, { method: op.method.toUpperCase(), headers: { 'content-type': 'application/json' }, ...(op.method === 'get' ? {} : { body: '{}' }) });
      const body = res.status === 204 ? null : ((await res.json()) as { error?: { message: string } });
      expect(body?.error?.message ?? '', `${op.method} ${path}`).not.toMatch(/^No route/);
    }
  });

  it('serves a docs page that lists every operation without any external asset', async () => {
    const res = await fetch(`${ts.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    for (const op of httpOperations) expect(html).toContain(op.path);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="https?:/);
  });
});

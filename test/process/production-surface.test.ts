import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/dynamo-local';
import { startCluster, type Cluster, type ClusterNode } from '../helpers/cluster';

/**
 * One real server process configured as production would be (not dev mode, behind one proxy hop,
 * a list of browser origins, /metrics on its own port), asked from outside over HTTP: what the public
 * port exposes and whose address the rate limits count.
 */
const ALLOWED = 'https://app.treatme.example';
let cluster: Cluster;
let node: ClusterNode;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await freePort();
  cluster = await startCluster(
    1,
    {
      DEV_MODE: 'false',
      METRICS_PORT: String(metricsPort),
      CORS_ORIGINS: `${ALLOWED},https://tablet.treatme.example`,
      TRUST_PROXY: '1',
      RATE_LIMIT_AUTH_PER_MINUTE: '3',
    },
    'prod_surface',
  );
  node = cluster.nodes[0]!;
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

const oauthFrom = (forwardedFor: string) =>
  fetch(`${node.url}/api/auth/oauth/google`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: '{}',
  }).then((r) => r.status);

describe('a production server process', () => {
  it('serves /metrics only on METRICS_PORT; the public port answers 404 as JSON', async () => {
    const pub = await fetch(`${node.url}/metrics`);
    expect(pub.status).toBe(404);
    expect(((await pub.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const priv = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(priv.status).toBe(200);
    expect(await priv.text()).toContain('treatme_');
  });

  it('serves the web bundles without their source maps, and no dev routes', async () => {
    expect((await fetch(`${node.url}/web/dist/map.js`)).status).toBe(200);
    expect((await fetch(`${node.url}/web/dist/map.js.map`)).status).toBe(404);
    expect((await fetch(`${node.url}/web/dist/tablet.js.map`)).status).toBe(404);
    const devLogin = await fetch(`${node.url}/api/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":"a@b.co"}',
    });
    expect(devLogin.status).toBe(404);
  });

  it('answers CORS for the listed origins only, with credentials', async () => {
    const ok = await fetch(`${node.url}/api/venues?lat=40.7128&lng=-74.006`, { headers: { origin: ALLOWED } });
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const evil = await fetch(`${node.url}/api/venues?lat=40.7128&lng=-74.006`, { headers: { origin: 'https://evil.example' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(evil.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('TRUST_PROXY=1: the address the one proxy appended is the client; what the client wrote before it is ignored', async () => {
    const statuses: number[] = [];
    // The client rotates forged entries in front; the proxy's appended address stays the same.
    for (let i = 0; i < 5; i++) statuses.push(await oauthFrom(`10.0.0.${i}, 198.51.100.7`));
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    // Another client behind the same proxy has its own budget.
    expect(await oauthFrom('198.51.100.8')).toBe(400);
  });
});

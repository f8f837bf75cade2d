import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startCluster, type Cluster, type ClusterNode } from '../helpers/cluster';

/**
 * Two real server processes. Each node caches what Redis says about a user's session cutoff, so an
 * authenticated request costs no Redis round trip; a cut on one node must still be seen by the other
 * the moment the logout-all or the deletion has answered: no wait, no retry.
 */
let cluster: Cluster;
let a: ClusterNode;
let b: ClusterNode;

beforeAll(async () => {
  cluster = await startCluster(2, { RATE_LIMIT_AUTH_PER_MINUTE: '10000', CODE_RESEND_SECONDS: '0' }, 'cutoff-cache');
  [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

describe('session cutoffs cached on each node', () => {
  it('a node that has just answered a token refuses it right after logout-all on the other node answers', async () => {
    for (let i = 0; i < 8; i++) {
      const session = await signIn(a, uniqueEmail(`cache-${i}`));
      // B has the user's "no cutoff" in memory, and answers from it.
      for (let j = 0; j < 3; j++) expect((await api(b, session.accessToken).get('/api/me')).status).toBe(200);
      expect((await api(a, session.accessToken).post('/api/auth/logout-all')).status).toBe(200);
      const res = await api(b, session.accessToken).get('/api/me');
      expect([i, res.status, res.body.error?.code]).toEqual([i, 401, 'UNAUTHENTICATED']);
      // A token issued after the cut is good on both nodes.
      const fresh = cluster.tokens.sign(session.user.id);
      expect((await api(b, fresh).get('/api/me')).status).toBe(200);
      expect((await api(a, fresh).get('/api/me')).status).toBe(200);
    }
  });

  it('the same for an account deletion, a token issued after it included', async () => {
    const email = uniqueEmail('cache-deleted');
    const session = await signIn(a, email);
    for (let j = 0; j < 3; j++) expect((await api(b, session.accessToken).get('/api/me')).status).toBe(200);
    const sent = await api(a).post('/api/auth/code/request', { channel: 'email', destination: email });
    const res = await fetch(`${a.url}/api/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'email', destination: email, code: sent.body.devCode }),
    });
    expect(res.status).toBe(200);
    expect((await api(b, session.accessToken).get('/api/me')).status).toBe(401);
    expect((await api(b, cluster.tokens.sign(session.user.id)).get('/api/me')).status).toBe(401);
  });
});

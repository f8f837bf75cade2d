import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface FakeProvider {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** Signs an ID token with this provider's published key; override any claim or header. */
  idToken(
    claims: Record<string, unknown>,
    opts?: { expiresIn?: string | number; issuer?: string; audience?: string; key?: 'published' | 'unpublished'; kid?: string },
  ): Promise<string>;
}

/**
 * A stand-in for Google's and Apple's key endpoints: a local HTTP server publishing a JWKS per
 * provider, and helpers that sign ID tokens with the matching private keys (plus an unpublished key,
 * to forge with).
 */
export async function startFakeOidc(): Promise<{ google: FakeProvider; apple: FakeProvider; close(): Promise<void> }> {
  const keys: Record<string, { priv: CryptoKey; jwk: JWK; alg: string }> = {};
  const rogue = await generateKeyPair('RS256');
  for (const [name, alg] of [
    ['google', 'RS256'],
    ['apple', 'ES256'],
  ] as const) {
    const pair = await generateKeyPair(alg);
    keys[name] = { priv: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: `${name}-1`, alg, use: 'sig' }, alg };
  }
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '').replace(/^\//, '');
    const k = keys[name];
    if (!k) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [k.jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = (name: 'google' | 'apple', issuer: string, audience: string): FakeProvider => ({
    issuer,
    audience,
    jwksUrl: `${base}/${name}`,
    idToken: async (claims, opts = {}) => {
      const k = keys[name]!;
      const useRogue = opts.key === 'unpublished';
      return new SignJWT(claims)
        .setProtectedHeader({ alg: useRogue ? 'RS256' : k.alg, kid: opts.kid ?? k.jwk.kid! })
        .setIssuer(opts.issuer ?? issuer)
        .setAudience(opts.audience ?? audience)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? '10m')
        .sign(useRogue ? rogue.privateKey : k.priv);
    },
  });
  return {
    google: provider('google', 'https://accounts.google.com', 'test-google-client.apps.googleusercontent.com'),
    apple: provider('apple', 'https://appleid.apple.com', 'dev.treatme.app'),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

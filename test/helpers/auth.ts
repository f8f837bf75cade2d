import type { SessionResponse } from '../../protocol/http/auth';
import type { TestServer } from './test-server';

/**
 * Signs in through the public dev-login route (dev mode), exactly as a demo client does, creating the
 * account on first use. Returns the access and refresh tokens and the user.
 */
export async function signIn(ts: Pick<TestServer, 'url'>, email: string, displayName?: string): Promise<SessionResponse> {
  const res = await fetch(`${ts.url}/api/auth/dev-login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(displayName ? { email, displayName } : { email }),
  });
  if (res.status !== 200) throw new Error(`dev-login for ${email} failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as SessionResponse;
}

/** A small JSON client for tests: `api(ts, token).post(path, body)` → `{ status, body, headers }`. */
export function api(ts: Pick<TestServer, 'url'>, token?: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${ts.url}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body ?? {}, headers),
    put: (path: string, body?: unknown, headers?: Record<string, string>) => call('PUT', path, body ?? {}, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
  };
}

let counter = 0;
/** A fresh, unique test email. */
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${counter}@test.treatme.dev`;
}

import type { WireError } from '../../protocol/errors';

/** A non-2xx answer from our REST API, carrying its machine-readable error. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly wire: WireError,
  ) {
    super(wire.message);
    this.name = 'ApiError';
  }
}

export async function requestJson<T>(method: string, path: string, opts: { token?: string | null; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const wire = (parsed as { error?: WireError } | undefined)?.error ?? { code: 'INTERNAL', message: `HTTP ${res.status}` };
    throw new ApiError(res.status, wire as WireError);
  }
  return parsed as T;
}

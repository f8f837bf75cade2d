import { isIP } from 'node:net';

/** True for localhost and 127.0.0.0/8 / ::1 literals. Names other than localhost are not resolved: unknown means remote. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || host.startsWith('::ffff:127.');
  return false;
}

/** A load test aimed at the wrong URL is an attack on someone's server: remote targets need an explicit flag. */
export function assertLoopback(url: string, allowRemote: boolean): void {
  if (!allowRemote && !isLoopback(url)) {
    throw new Error(`${url} is not a loopback address; pass --allow-remote to load-test another machine`);
  }
}

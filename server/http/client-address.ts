import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

type Trust = (addr: string, hop: number) => boolean;

/** TRUST_PROXY as Express's `trust proxy` setting takes it: off, a hop count, or the proxies' addresses. */
export type TrustProxy = false | number | string[];

/**
 * The same trust rule Express applies for `req.ip` (TRUST_PROXY), for requests Express never sees: the
 * socket.io handshake. A hop count trusts that many proxies nearest to us; a list trusts those addresses.
 */
export function trustRule(t: TrustProxy): Trust {
  if (t === false) return () => false;
  if (typeof t === 'number') return (_addr, hop) => hop < t;
  return proxyaddr.compile(t);
}

/** The client's address as far as trusted proxies vouch for it; the TCP peer when none is trusted. */
export function clientAddress(req: IncomingMessage, trust: Trust): string {
  return proxyaddr(req, trust);
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
export const isLoopback = (addr: string): boolean => LOOPBACK.test(addr);

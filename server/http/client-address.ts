import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { Config } from '../config/config';

type Trust = (addr: string, hop: number) => boolean;

/**
 * The same trust rule Express applies for `req.ip` (TRUST_PROXY), for requests Express never sees: the
 * socket.io handshake. A hop count trusts that many proxies nearest to us; a list trusts those addresses.
 */
export function trustRule(config: Pick<Config, 'trustProxy'>): Trust {
  const t = config.trustProxy;
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

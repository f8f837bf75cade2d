import type { IncomingMessage } from 'node:http';
import { clientAddress, isLoopback, trustRule, type TrustProxy } from '../http/client-address';

/** Where the resolved address rides from `allowRequest` to the engine's connection event. */
const ADDRESS = Symbol('treatme.clientAddress');
type Tagged = IncomingMessage & { [ADDRESS]?: string };

/**
 * SOCKET_CONNECTIONS_PER_IP, per node: one address may hold this many engine.io connections open here.
 * The address is the client's as TRUST_PROXY resolves it, so a forged X-Forwarded-For buys nothing and
 * clients behind a trusted proxy are told apart. Loopback peers (a sidecar, a local load test) are not
 * limited: with no trusted proxy they are the machine itself, not a client.
 */
export class ConnectionsPerAddress {
  private readonly open = new Map<string, number>();
  private readonly trust: ReturnType<typeof trustRule>;

  /** `limit` 0 is no limit. */
  constructor(
    trustProxy: TrustProxy,
    private readonly limit: number,
  ) {
    this.trust = trustRule(trustProxy);
  }

  /** Called from socket.io's `allowRequest` for every handshake request. */
  admit(req: IncomingMessage): boolean {
    const addr = clientAddress(req, this.trust);
    (req as Tagged)[ADDRESS] = addr;
    const limit = this.limit;
    if (limit === 0 || isLoopback(addr)) return true;
    return (this.open.get(addr) ?? 0) < limit;
  }

  /** Counts an accepted engine.io connection until it closes; returns the client's address. */
  track(request: IncomingMessage, onClose: (fn: () => void) => void): string | undefined {
    const addr = (request as Tagged)[ADDRESS];
    if (addr === undefined) return undefined;
    this.open.set(addr, (this.open.get(addr) ?? 0) + 1);
    onClose(() => {
      const n = (this.open.get(addr) ?? 1) - 1;
      if (n <= 0) this.open.delete(addr);
      else this.open.set(addr, n);
    });
    return addr;
  }

  openFrom(addr: string): number {
    return this.open.get(addr) ?? 0;
  }
}

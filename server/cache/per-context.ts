import type { AppContext } from '../context';

/**
 * One instance per server context, built on first use. Left only for per-server helpers that own no
 * connection or timer (OAuth verifiers, derived keys): anything that must be stopped
 * is built by the composition root (services.ts, build-server.ts) instead. Tests that start several
 * servers in one process never share an instance.
 */
export function perContext<T>(factory: (ctx: AppContext) => T): (ctx: AppContext) => T {
  const instances = new WeakMap<AppContext, T>();
  return (ctx) => {
    let instance = instances.get(ctx);
    if (instance === undefined) {
      instance = factory(ctx);
      instances.set(ctx, instance);
    }
    return instance;
  };
}

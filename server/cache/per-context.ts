import type { AppContext } from '../context';

/**
 * One instance per server context, built on first use. Features reach shared services (push sender,
 * query cache, rate limiters) through these getters, so two modules never build two copies and tests
 * that start several servers in one process never share one.
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

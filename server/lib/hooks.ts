/**
 * Named hooks one feature announces and others subscribe to, in the spirit of hocuspocus's extension
 * hooks: the announcer does not know who listens, and listeners are registered by the composition
 * root (or a feature builder), never as a side effect of constructing something else.
 *
 * Handlers run in registration order after the announcing write has committed; the announcer does
 * not wait for them, and a handler that throws or rejects is reported to `onError` without affecting
 * the announcer or the other handlers.
 */
export class Hooks<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly handlers = new Map<keyof Events, ((...args: never[]) => unknown)[]>();

  constructor(private readonly onError: (err: unknown, hook: keyof Events) => void) {}

  on<K extends keyof Events>(hook: K, handler: (...args: Events[K]) => unknown): void {
    const list = this.handlers.get(hook) ?? [];
    list.push(handler as (...args: never[]) => unknown);
    this.handlers.set(hook, list);
  }

  emit<K extends keyof Events>(hook: K, ...args: Events[K]): void {
    for (const handler of this.handlers.get(hook) ?? []) {
      try {
        const result = (handler as (...a: Events[K]) => unknown)(...args);
        if (result instanceof Promise) result.catch((err: unknown) => this.onError(err, hook));
      } catch (err) {
        this.onError(err, hook);
      }
    }
  }
}

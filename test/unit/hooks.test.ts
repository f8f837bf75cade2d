import { describe, expect, it } from 'vitest';
import { Hooks } from '../../server/lib/hooks';

type Events = { changed: [a: string, b: string]; other: [n: number] };

describe('Hooks', () => {
  it('calls every handler of a hook in registration order, and only those', () => {
    const seen: string[] = [];
    const hooks = new Hooks<Events>(() => undefined);
    hooks.on('changed', (a, b) => void seen.push(`first ${a} ${b}`));
    hooks.on('changed', (a) => void seen.push(`second ${a}`));
    hooks.on('other', (n) => void seen.push(`other ${n}`));
    hooks.emit('changed', 'x', 'y');
    expect(seen).toEqual(['first x y', 'second x']);
  });

  it('reports a throwing or rejecting handler without stopping the others or the announcer', async () => {
    const errors: [string, string][] = [];
    const hooks = new Hooks<Events>((err, hook) => errors.push([String(hook), (err as Error).message]));
    let reached = false;
    hooks.on('changed', () => {
      throw new Error('sync');
    });
    hooks.on('changed', async () => {
      throw new Error('async');
    });
    hooks.on('changed', () => void (reached = true));
    expect(() => hooks.emit('changed', 'a', 'b')).not.toThrow();
    expect(reached).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual([
      ['changed', 'sync'],
      ['changed', 'async'],
    ]);
  });
});

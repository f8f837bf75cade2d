import { describe, expect, it } from 'vitest';
import { FreshReads } from '../../server/presence/fresh-reads';

/** A value that changes under the reader: each read returns how many writes it saw when it started. */
function counterWithSlowReads() {
  let writes = 0;
  let reads = 0;
  const release: (() => void)[] = [];
  const reader = new FreshReads<number>(async () => {
    reads++;
    const seen = writes;
    await new Promise<void>((r) => release.push(r));
    return seen;
  });
  return {
    reader,
    write: () => ++writes,
    reads: () => reads,
    finishOne: async () => {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('FreshReads', () => {
  it('gives every caller a read that started after it asked, with one read per queue of callers', async () => {
    const c = counterWithSlowReads();
    const first = c.reader.get('venue');
    const w = c.write();
    // Asked after write #1 while the first read (started before it) runs: must not get that read.
    const second = c.reader.get('venue');
    const third = c.reader.get('venue');
    await c.finishOne();
    expect(await first).toBe(0);
    expect(c.reads()).toBe(2);
    await c.finishOne();
    expect(await second).toBeGreaterThanOrEqual(w);
    expect(await third).toBeGreaterThanOrEqual(w);
    expect(c.reads()).toBe(2);
  });

  it('keeps keys apart and lets a failed read fail only its own callers', async () => {
    let fail = true;
    const reader = new FreshReads<string>(async (key) => {
      if (key === 'a' && fail) {
        fail = false;
        throw new Error('busy');
      }
      return key;
    });
    await expect(reader.get('a')).rejects.toThrow('busy');
    expect(await reader.get('a')).toBe('a');
    expect(await Promise.all([reader.get('b'), reader.get('c')])).toEqual(['b', 'c']);
  });
});

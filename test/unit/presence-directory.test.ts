import { describe, expect, it } from 'vitest';
import type { PresenceRecord } from '../../server/presence/presence-store';
import { PresenceDirectory } from '../../server/social/presence-directory';

/** A store whose `get` answers from a map the test edits (a change with no relay: a lost message), counting reads. */
function fakeStore() {
  const at = new Map<string, string>();
  let reads = 0;
  const release: (() => void)[] = [];
  let slow = false;
  return {
    at,
    reads: () => reads,
    slowReads: (on: boolean) => (slow = on),
    releaseAll: () => release.splice(0).forEach((r) => r()),
    store: {
      get: async (userId: string): Promise<PresenceRecord | null> => {
        reads++;
        if (slow) await new Promise<void>((r) => release.push(r));
        const venueId = at.get(userId);
        return venueId ? ({ userId, venueId, visible: true } as PresenceRecord) : null;
      },
    },
  };
}

describe('the presence directory behind "friends here"', () => {
  it('keeps the users callers asked about fresh in the background, so a steady caller costs no store read, and repairs a lost relay within half an interval', async () => {
    let now = 1_000_000;
    const s = fakeStore();
    const FRESH_MS = 10_000;
    const dir = new PresenceDirectory(s.store, () => now, FRESH_MS);
    s.at.set('pal', 'v1');

    // Never heard of: one read, then memory.
    expect((await dir.venuesOf(['pal', 'nobody'])).get('pal')).toBe('v1');
    expect(s.reads()).toBe(2);
    expect((await dir.venuesOf(['pal'])).get('pal')).toBe('v1');
    expect(s.reads()).toBe(2);

    // Pal moves with the relay lost. Before half an interval the refresh has nothing due.
    s.at.set('pal', 'v2');
    now += FRESH_MS / 2 - 1;
    await dir.refresh();
    expect(s.reads()).toBe(2);
    // At half an interval the refresh re-reads both asked-about users, off the request path.
    now += 1;
    await dir.refresh();
    expect(s.reads()).toBe(4);
    const readsBefore = s.reads();
    // Past the full interval the entries are still fresh (the refresh renewed them): no read by the caller.
    now += FRESH_MS / 2 + 100;
    expect((await dir.venuesOf(['pal'])).get('pal')).toBe('v2');
    expect(s.reads()).toBe(readsBefore);

    // Nobody asked about a user for longer than askedForMs: the refresh stops reading them.
    now += 11 * 60_000;
    await dir.refresh();
    const idle = s.reads();
    now += FRESH_MS;
    await dir.refresh();
    expect(s.reads()).toBe(idle);
  });

  it('reads a user once however many answers wait for them, and a relay heard during the read wins', async () => {
    const now = 5_000_000;
    const s = fakeStore();
    const dir = new PresenceDirectory(s.store, () => now, 10_000);
    s.at.set('pal', 'old');
    s.slowReads(true);
    const answers = Array.from({ length: 20 }, () => dir.venuesOf(['pal']));
    await new Promise((r) => setImmediate(r));
    expect(s.reads()).toBe(1);
    dir.onRelays([{ venueId: 'new', userId: 'pal', person: { userId: 'pal', displayName: 'Pal' } } as never]);
    s.releaseAll();
    const got = await Promise.all(answers);
    expect(got.map((m) => m.get('pal'))).toEqual(Array(20).fill('new'));
    expect((await dir.venuesOf(['pal'])).get('pal')).toBe('new');
    expect(s.reads()).toBe(1);
  });

  it('fails only the answers that waited for a failed read, and reads again next time', async () => {
    const now = 9_000_000;
    let fail = true;
    let reads = 0;
    const dir = new PresenceDirectory(
      {
        get: async (userId: string) => {
          reads++;
          if (fail) throw new Error('store down');
          return { userId, venueId: 'v', visible: true } as PresenceRecord;
        },
      },
      () => now,
      10_000,
    );
    await expect(Promise.all([dir.venuesOf(['a']), dir.venuesOf(['a'])])).rejects.toThrow('store down');
    fail = false;
    expect((await dir.venuesOf(['a'])).get('a')).toBe('v');
    expect(reads).toBe(2);
  });
});

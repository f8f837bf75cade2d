import { z } from 'zod';
import { ErrorCode } from '../../protocol/errors';
import type { PersonAtVenue } from '../../protocol/events';
import type { VenuePeopleResponse } from '../../protocol/http/people';
import { AppError } from '../errors';

type Ordered = Pick<PersonAtVenue, 'userId' | 'displayName' | 'isFriend'>;

const names = new Intl.Collator(undefined, { sensitivity: 'base' });

/** The people list's one order: friends first, then by display name (case and accents aside), then id. */
export function byListOrder(a: Ordered, b: Ordered): number {
  return (
    Number(b.isFriend) - Number(a.isFriend) ||
    names.compare(a.displayName, b.displayName) ||
    (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0)
  );
}

const CursorFields = z.tuple([z.union([z.literal(0), z.literal(1)]), z.string().max(500), z.string().max(200)]);

function encodeCursor(p: Ordered): string {
  return Buffer.from(JSON.stringify([p.isFriend ? 1 : 0, p.displayName, p.userId])).toString('base64url');
}

function decodeCursor(cursor: string): Ordered {
  let fields: z.infer<typeof CursorFields> | undefined;
  try {
    fields = CursorFields.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).data;
  } catch {
    fields = undefined;
  }
  if (!fields)
    throw new AppError(ErrorCode.VALIDATION, 'Not a cursor this list gave out', {
      issues: [{ path: ['cursor'], message: 'unknown cursor' }],
    });
  return { isFriend: fields[0] === 1, displayName: fields[1], userId: fields[2] };
}

/**
 * One page of a sorted list: the people after the cursor's place in the order (keyset paging), so a
 * page never repeats or skips someone who stayed, whoever arrived or left since the page before.
 */
export function pageOf(list: VenuePeopleResponse, opts: { limit?: number; cursor?: string }, maxPerPage: number): VenuePeopleResponse {
  const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor);
  const limit = Math.min(opts.limit ?? maxPerPage, maxPerPage);
  const rest = after ? list.people.filter((p) => byListOrder(p, after) > 0) : list.people;
  const people = rest.slice(0, limit);
  const last = people[people.length - 1];
  return { venueId: list.venueId, people, nextCursor: rest.length > limit && last ? encodeCursor(last) : null };
}

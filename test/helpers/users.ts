import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../server/context';

export interface TestUser {
  id: string;
  token: string;
  displayName: string;
}

/** A user row plus an access token signed the way the sign-in routes sign them. */
export async function createUser(ctx: AppContext, displayName = `user-${randomBytes(3).toString('hex')}`): Promise<TestUser> {
  const email = `${displayName.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${randomBytes(4).toString('hex')}@test.treatme.dev`;
  const user = await ctx.db.prisma.user.create({ data: { email, displayName } });
  return { id: user.id, token: ctx.tokens.sign(user.id), displayName };
}

export async function createUsers(ctx: AppContext, n: number, prefix = 'user'): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (let i = 0; i < n; i++) out.push(await createUser(ctx, `${prefix}-${i}`));
  return out;
}

export async function demoVenues(ctx: AppContext) {
  return await ctx.db.prisma.venue.findMany({
    orderBy: { slug: 'asc' },
    select: { id: true, slug: true, latitude: true, longitude: true },
  });
}

export async function makeFriends(ctx: AppContext, a: string, b: string): Promise<void> {
  await ctx.db.prisma.friendship.create({ data: { requesterId: a, addresseeId: b, status: 'ACCEPTED', acceptedAt: new Date() } });
}

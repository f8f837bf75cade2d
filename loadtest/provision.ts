import { userEmail, type TraceHeader } from '../protocol/trace';
import { AccessTokens } from '../server/auth/access-tokens';
import type { PrismaClient } from '../server/storage/prisma-types';
import type { Identity } from './replayer';
import { mapLimit } from '../server/lib/map-limit';

export interface Identities {
  users: Identity[];
  staff: (Identity | undefined)[];
}

/** Tokens long enough for the whole replay; a token expiring mid-night would read as a server fault. */
const TOKEN_TTL_SECONDS = 12 * 3_600;

/**
 * Accounts for the trace's users and the venues' bartenders, created straight in the database and
 * signed with the cluster's JWT secret: thousands of dev-logins would measure the sign-in path, not
 * the night. Only possible when this tool started the nodes.
 */
export async function provisionDirect(prisma: PrismaClient, header: TraceHeader, jwtSecret: string): Promise<Identities> {
  const emails = Array.from({ length: header.users }, (_, u) => userEmail(header, u));
  for (let i = 0; i < emails.length; i += 1_000) {
    await prisma.user.createMany({
      data: emails.slice(i, i + 1_000).map((email, k) => ({ email, displayName: `Night Owl ${i + k}` })),
      skipDuplicates: true,
    });
  }
  const ids = new Map<string, string>();
  for (let i = 0; i < emails.length; i += 5_000) {
    const rows = await prisma.user.findMany({ where: { email: { in: emails.slice(i, i + 5_000) } }, select: { id: true, email: true } });
    for (const r of rows) if (r.email) ids.set(r.email, r.id);
  }
  const staffRows = await prisma.user.findMany({
    where: { email: { in: header.venues.map((v) => v.staffEmail) } },
    select: { id: true, email: true },
  });
  for (const r of staffRows) if (r.email) ids.set(r.email, r.id);
  const tokens = new AccessTokens(jwtSecret, TOKEN_TTL_SECONDS);
  const identity = (email: string): Identity | undefined => {
    const userId = ids.get(email);
    return userId ? { userId, token: tokens.sign(userId) } : undefined;
  };
  return {
    users: emails.map((e) => {
      const id = identity(e);
      if (!id) throw new Error(`user ${e} was not created`);
      return id;
    }),
    staff: header.venues.map((v) => identity(v.staffEmail)),
  };
}

/** Against a server we did not start: the dev sign-in for every account (dev mode must be on there). */
export async function provisionViaHttp(url: string, header: TraceHeader, concurrency = 8): Promise<Identities> {
  const login = async (email: string): Promise<Identity | undefined> => {
    const res = await fetch(`${url}/api/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    if (!res.ok) {
      if (res.status === 404) throw new Error(`${url} has no dev sign-in (DEV_MODE off): the load tester cannot create its users there`);
      return undefined;
    }
    const body = (await res.json()) as { accessToken: string; user: { id: string } };
    return { userId: body.user.id, token: body.accessToken };
  };
  const emails = [...Array.from({ length: header.users }, (_, u) => userEmail(header, u)), ...header.venues.map((v) => v.staffEmail)];
  const out: (Identity | undefined)[] = new Array(emails.length);
  await mapLimit([...emails.keys()], concurrency, async (i) => {
    out[i] = await login(emails[i]!);
  });
  const users = out.slice(0, header.users).map((id, u) => {
    if (!id) throw new Error(`dev-login failed for user ${u}`);
    return id;
  });
  return { users, staff: out.slice(header.users) };
}

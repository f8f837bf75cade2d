import type { DevStaffAccountsResponse } from '../../protocol/http/staff';
import type { PrismaClient } from '../storage/prisma-types';

export type StaffAccount = DevStaffAccountsResponse['accounts'][number];

/** Each venue's staff accounts that can sign in by e-mail (the demo seed makes `staff+<slug>@treatme.dev`). */
export async function staffAccounts(prisma: PrismaClient, limit = 100): Promise<StaffAccount[]> {
  const rows = await prisma.venueStaff.findMany({
    where: { user: { email: { not: null } } },
    select: { venue: { select: { id: true, name: true, slug: true } }, user: { select: { email: true } } },
    orderBy: [{ venue: { name: 'asc' } }, { createdAt: 'asc' }],
    take: limit,
  });
  return rows.map((r) => ({ venueId: r.venue.id, venue: r.venue.name, slug: r.venue.slug, email: r.user.email! }));
}

import type { AppContext } from '../context';
import type { OrderNotifier } from './order-notifier';

const BATCH = 100;

/**
 * Tells recipients whose accepted drink is still unredeemed that it expires soon: one push per order,
 * claimed by a compare-and-set on `expiryWarnedAt`, so several nodes running the job send it once.
 */
export async function warnExpiringSoon(
  ctx: Pick<AppContext, 'db' | 'logger'>,
  notifier: OrderNotifier,
  minutes: number,
  now: number,
): Promise<string[]> {
  if (minutes === 0) return [];
  const prisma = ctx.db.prisma;
  const due = await prisma.order.findMany({
    where: { status: 'ACCEPTED', expiryWarnedAt: null, expiresAt: { gt: new Date(now), lte: new Date(now + minutes * 60_000) } },
    orderBy: { expiresAt: 'asc' },
    take: BATCH,
  });
  const warned: string[] = [];
  for (const order of due) {
    const { count } = await prisma.order.updateMany({
      where: { id: order.id, expiryWarnedAt: null, status: 'ACCEPTED' },
      data: { expiryWarnedAt: new Date(now) },
    });
    if (count !== 1) continue;
    warned.push(order.id);
    await notifier.expiringSoon(order);
  }
  return warned;
}

import { ErrorCode } from '../../protocol/errors';
import { ClientEvent, Rooms } from '../../protocol/events';
import { StaffJoinPayload } from '../../protocol/schemas';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { SocketFeature } from './socket-server';
import { validated, type EventGuardDeps } from './validated';

/**
 * `staff:join { venueId }`: a bartender tablet joins its venue's staff room to hear `order:paid` and
 * `redemption:new`. Only VenueStaff of that venue may: the room carries who bought whom what.
 */
export function staffRoomFeature(ctx: Pick<AppContext, 'db'>, guard: EventGuardDeps): SocketFeature {
  const join = validated(guard, ClientEvent.StaffJoin, StaffJoinPayload, { auth: 'user' }, async ({ venueId }, { socket, userId }) => {
    const staff = await ctx.db.prisma.venueStaff.findUnique({ where: { venueId_userId: { venueId, userId } }, select: { id: true } });
    if (!staff) throw new AppError(ErrorCode.FORBIDDEN, 'Only staff of this venue can join its staff room');
    await socket.join(Rooms.staff(venueId));
    return { venueId };
  });
  return { events: { [ClientEvent.StaffJoin]: join } };
}

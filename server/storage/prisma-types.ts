/**
 * The one import point for the generated Prisma client (server/generated/prisma is rebuilt by
 * `npm run prisma:generate` / postinstall), so a change of generator or output path touches one file.
 */
export { Prisma, PrismaClient } from '../generated/prisma/client';
export type {
  AuditLog,
  Block,
  Device,
  Friendship,
  Group,
  GroupMember,
  MenuItem,
  Order,
  OrderItem,
  Presence,
  ProcessedWebhookEvent,
  Redemption,
  RefreshToken,
  Special,
  SystemMarker,
  User,
  Venue,
  VenueStaff,
} from '../generated/prisma/client';
export { DevicePlatform, FriendshipStatus, OrderStatus, PaymentMethod, RedemptionStatus, StaffRole } from '../generated/prisma/enums';

/** What an interactive `prisma.$transaction(async (tx) => …)` callback receives. */
export type PrismaTransaction = import('../generated/prisma/client').Prisma.TransactionClient;

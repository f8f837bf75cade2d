import type { Request } from 'express';
import type { AppContext } from '../context';
import type { Prisma as PrismaNs } from '../storage/prisma-types';

/** Known actions; free text is allowed too so other features can add theirs without editing this file. */
export const AuditAction = {
  SignIn: 'auth.sign_in',
  ProviderLinked: 'auth.provider_linked',
  TokenRevoked: 'auth.token_revoked',
  TokenReuseDetected: 'auth.token_reuse_detected',
  FriendRequested: 'friendship.requested',
  FriendAccepted: 'friendship.accepted',
  FriendRemoved: 'friendship.removed',
  UserBlocked: 'block.created',
  UserUnblocked: 'block.removed',
  GroupCreated: 'group.created',
  GroupInvited: 'group.invited',
  GroupJoined: 'group.joined',
  GroupLeft: 'group.left',
  GroupDeleted: 'group.deleted',
  GroupVenueSet: 'group.venue_set',
  DeviceRegistered: 'device.registered',
  DeviceUnregistered: 'device.unregistered',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

export interface AuditEntry {
  /** Who acted; null for the system (sweepers, webhooks). */
  userId: string | null;
  action: AuditAction | (string & {});
  resourceType: string;
  resourceId: string;
  /** What changed, e.g. `{ status: ['PAID', 'REDEEMED'] }`; must be JSON. */
  changes?: Record<string, unknown> | undefined;
  ip: string | null;
  userAgent: string | null;
}

type Prisma = AppContext['db']['prisma'];
/** A Prisma client or an interactive transaction's client: both have `auditLog`. */
export type AuditWriter = Pick<Prisma, 'auditLog'>;

/**
 * Appends one audit row. Pass `tx` to write it inside the caller's transaction, so a money or staff
 * action and its audit row commit or roll back together. Errors propagate: an action we cannot
 * account for should fail rather than happen silently.
 */
export async function audit(ctx: Pick<AppContext, 'db'>, entry: AuditEntry, tx?: AuditWriter): Promise<void> {
  const writer: AuditWriter = tx ?? ctx.db.prisma;
  await writer.auditLog.create({
    data: {
      userId: entry.userId,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId,
      ...(entry.changes !== undefined ? { changes: entry.changes as PrismaNs.InputJsonValue } : {}),
      ipAddress: entry.ip,
      userAgent: entry.userAgent?.slice(0, 512) ?? null,
    },
  });
}

/** The `ip` and `userAgent` of an audit entry, from the request that caused it. */
export function auditSource(req: Request): { ip: string | null; userAgent: string | null } {
  return { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
}

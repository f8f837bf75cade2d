import { ErrorCode } from '../../protocol/errors';
import type { DeviceView, RegisterDeviceBody } from '../../protocol/http/devices';
import { AuditAction, audit } from '../audit/audit';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { DeviceDirectory } from './device-directory';

type Source = { ip: string | null; userAgent: string | null };
type DeviceRow = {
  id: string;
  token: string;
  platform: DeviceView['platform'];
  appVersion: string | null;
  osVersion: string | null;
  pushEnabled: boolean;
  locale: string | null;
  lastSeenAt: Date;
};

function toView(ttlMs: number, d: DeviceRow): DeviceView {
  return {
    id: d.id,
    token: d.token,
    platform: d.platform,
    appVersion: d.appVersion,
    osVersion: d.osVersion,
    pushEnabled: d.pushEnabled,
    locale: d.locale,
    lastSeenAt: d.lastSeenAt.toISOString(),
    expiresAt: new Date(d.lastSeenAt.getTime() + ttlMs).toISOString(),
  };
}

/**
 * Registers (or refreshes, on every app open) a push token. A token belongs to one install, so if it
 * was registered by another account (the phone was signed into someone else before) it moves to this
 * one: pushes for the old account must not reach whoever holds the phone now.
 */
export async function registerDevice(
  ctx: AppContext,
  directory: DeviceDirectory,
  me: string,
  body: RegisterDeviceBody,
  source: Source,
): Promise<DeviceView> {
  const prisma = ctx.db.prisma;
  const now = new Date(ctx.now());
  const previous = await prisma.device.findUnique({ where: { token: body.token }, select: { userId: true } });
  const fields = {
    platform: body.platform,
    appVersion: body.appVersion ?? null,
    osVersion: body.osVersion ?? null,
    pushEnabled: body.pushEnabled ?? true,
    locale: body.locale ?? null,
    lastSeenAt: now,
  };
  const device = await prisma.device.upsert({
    where: { token: body.token },
    update: { ...fields, userId: me },
    create: { ...fields, userId: me, token: body.token },
  });
  if (previous && previous.userId !== me) await directory.remove(previous.userId, body.token);
  const view = toView(directory.ttlMs, device);
  await directory.put({ userId: me, token: body.token, ...fields, lastSeenAt: now.getTime(), expiresAt: Date.parse(view.expiresAt) });
  if (!previous || previous.userId !== me) {
    await audit(ctx, {
      userId: me,
      action: AuditAction.DeviceRegistered,
      resourceType: 'device',
      resourceId: device.id,
      changes: { platform: body.platform, movedFrom: previous?.userId ?? null },
      ...source,
    });
  }
  return view;
}

export async function unregisterDevice(
  ctx: AppContext,
  directory: DeviceDirectory,
  me: string,
  token: string,
  source: Source,
): Promise<void> {
  const { count } = await ctx.db.prisma.device.deleteMany({ where: { token, userId: me } });
  // Another user's token answers like an unknown one: a token must not reveal whose phone it is.
  if (count === 0) throw new AppError(ErrorCode.NOT_FOUND, 'No such device');
  await directory.remove(me, token);
  await audit(ctx, {
    userId: me,
    action: AuditAction.DeviceUnregistered,
    resourceType: 'device',
    resourceId: token.slice(0, 16),
    ...source,
  });
}

export async function listDevices(ctx: AppContext, directory: DeviceDirectory, me: string): Promise<DeviceView[]> {
  const rows = await ctx.db.prisma.device.findMany({ where: { userId: me }, orderBy: { lastSeenAt: 'desc' } });
  return rows.map((r) => toView(directory.ttlMs, r));
}

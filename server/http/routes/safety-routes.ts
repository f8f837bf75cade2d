import { Router } from 'express';
import { ErrorCode } from '../../../protocol/errors';
import { IdParams } from '../../../protocol/http/common';
import { ReportBody } from '../../../protocol/http/people';
import { audit, auditSource } from '../../audit/audit';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { limitUserWrites } from '../../rate-limit/rate-limiter';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

export const ReportAction = 'user.reported';

/**
 * Reporting a user (an audit row for whoever reviews reports). Blocking is the social routes'; the live
 * people list hears of a block through the `blockChanged` hook (feature-hooks.ts).
 */
export function safetyRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/api/users/:id/report', requireUser(ctx.tokens), limitUserWrites(ctx), async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'user id');
    const body = parseInput(ReportBody, req.body, 'body');
    const me = userIdOf(res);
    if (id === me) throw new AppError(ErrorCode.VALIDATION, 'You cannot report yourself');
    const target = await ctx.db.prisma.user.findUnique({ where: { id }, select: { id: true } });
    if (!target) throw new AppError(ErrorCode.NOT_FOUND, 'No such user');
    await audit(ctx, {
      userId: me,
      action: ReportAction,
      resourceType: 'user',
      resourceId: id,
      changes: { reason: body.reason, ...(body.venueId ? { venueId: body.venueId } : {}) },
      ...auditSource(req),
    });
    // Nothing about the outcome is shared with the reporter, and nothing at all with the reported user.
    res.status(202).json({ ok: true });
  });

  return router;
}

import { Router, type Request, type RequestHandler } from 'express';
import { ErrorCode } from '../../../protocol/errors';
import { IdParams, UserIdParams } from '../../../protocol/http/common';
import { ReportBody } from '../../../protocol/http/people';
import { BlockBody } from '../../../protocol/http/social';
import { audit, auditSource } from '../../audit/audit';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { limitUserWrites } from '../../rate-limit/rate-limiter';
import type { VenuePeopleFanout } from '../../venue-people/people-fanout';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

export const ReportAction = 'user.reported';

/**
 * Reporting a user (an audit row for whoever reviews reports), and making blocks take effect on the live
 * people list at once. Blocking itself is the social routes' (`POST /api/blocks`, `DELETE /api/blocks/:userId`);
 * this router is mounted before them and only watches their outcome.
 */
export function safetyRoutes(ctx: AppContext, people: Pick<VenuePeopleFanout, 'blockChanged'>): Router {
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

  // A successful block or unblock between two people at one venue changes what each sees there now,
  // not at the next check-in; the social route answers 204 only once the block row is written.
  const afterBlockChange =
    (other: (req: Request) => string | undefined): RequestHandler =>
    (req, res, next) => {
      res.on('finish', () => {
        const me: unknown = res.locals.userId;
        const them = other(req);
        if (res.statusCode !== 204 || typeof me !== 'string' || !them) return;
        people.blockChanged(me, them).catch((err: unknown) => ctx.logger.warn({ err }, 'live people update after a block failed'));
      });
      next();
    };
  router.post(
    '/api/blocks',
    afterBlockChange((req) => BlockBody.safeParse(req.body).data?.userId),
  );
  router.delete(
    '/api/blocks/:userId',
    afterBlockChange((req) => UserIdParams.safeParse(req.params).data?.userId),
  );

  return router;
}

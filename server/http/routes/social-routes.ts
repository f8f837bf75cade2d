import { Router } from 'express';
import { IdParams, UserIdParams } from '../../../protocol/http/common';
import {
  BlockBody,
  CreateGroupBody,
  FriendRequestBody,
  GroupInviteBody,
  GroupJoinBody,
  GroupVenueBody,
} from '../../../protocol/http/social';
import { auditSource } from '../../audit/audit';
import type { AppContext } from '../../context';
import type { PushSender } from '../../devices/push-sender';
import { limitUserWrites } from '../../rate-limit/rate-limiter';
import { blockUser, listBlocks, unblockUser } from '../../social/block-service';
import { acceptFriendship, friendsOverview, removeFriendship, requestFriendship } from '../../social/friendships';
import type { GroupInvites } from '../../social/group-invites';
import { createGroup, getGroup, inviteToGroup, joinGroup, leaveGroup, myGroups, setGroupVenue } from '../../social/groups';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

/** Friends, blocks and groups: all signed in, all writes rate-limited per user. */
export function socialRoutes(ctx: AppContext, deps: { push: PushSender; invites: GroupInvites }): Router {
  const router = Router();
  const signedIn = [requireUser(ctx.tokens), limitUserWrites(ctx)];

  router.get('/api/friends', ...signedIn, async (_req, res) => {
    res.json(await friendsOverview(ctx, userIdOf(res)));
  });
  router.post('/api/friends/requests', ...signedIn, async (req, res) => {
    const { userId } = parseInput(FriendRequestBody, req.body, 'body');
    const result = await requestFriendship(ctx, userIdOf(res), userId, auditSource(req));
    res.status(result.state === 'outgoing' ? 201 : 200).json(result);
  });
  router.post('/api/friends/requests/:userId/accept', ...signedIn, async (req, res) => {
    const { userId } = parseInput(UserIdParams, req.params, 'user id');
    res.json(await acceptFriendship(ctx, userIdOf(res), userId, auditSource(req)));
  });
  router.delete('/api/friends/:userId', ...signedIn, async (req, res) => {
    const { userId } = parseInput(UserIdParams, req.params, 'user id');
    await removeFriendship(ctx, userIdOf(res), userId, auditSource(req));
    res.status(204).end();
  });

  router.get('/api/blocks', ...signedIn, async (_req, res) => {
    res.json(await listBlocks(ctx, userIdOf(res)));
  });
  router.post('/api/blocks', ...signedIn, async (req, res) => {
    const { userId } = parseInput(BlockBody, req.body, 'body');
    await blockUser(ctx, userIdOf(res), userId, auditSource(req));
    res.status(204).end();
  });
  router.delete('/api/blocks/:userId', ...signedIn, async (req, res) => {
    const { userId } = parseInput(UserIdParams, req.params, 'user id');
    await unblockUser(ctx, userIdOf(res), userId, auditSource(req));
    res.status(204).end();
  });

  router.get('/api/groups', ...signedIn, async (_req, res) => {
    res.json({ groups: await myGroups(ctx, userIdOf(res)) });
  });
  router.post('/api/groups', ...signedIn, async (req, res) => {
    const { name } = parseInput(CreateGroupBody, req.body, 'body');
    res.status(201).json({ group: await createGroup(ctx, userIdOf(res), name, auditSource(req)) });
  });
  router.get('/api/groups/:id', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'group id');
    res.json({ group: await getGroup(ctx, id, userIdOf(res)) });
  });
  router.get('/api/groups/:id/members', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'group id');
    res.json({ members: (await getGroup(ctx, id, userIdOf(res))).members });
  });
  router.post('/api/groups/:id/invites', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'group id');
    const { userId } = parseInput(GroupInviteBody, req.body, 'body');
    res.status(201).json(await inviteToGroup(ctx, deps, id, userIdOf(res), userId, auditSource(req)));
  });
  router.post('/api/groups/:id/join', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'group id');
    const { inviteCode } = parseInput(GroupJoinBody, req.body, 'body');
    res.json({ group: await joinGroup(ctx, deps.invites, id, userIdOf(res), inviteCode, auditSource(req)) });
  });
  router.post('/api/groups/:id/leave', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'group id');
    res.json(await leaveGroup(ctx, id, userIdOf(res), auditSource(req)));
  });
  router.put('/api/groups/:id/venue', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'group id');
    const { venueId } = parseInput(GroupVenueBody, req.body, 'body');
    res.json({ group: await setGroupVenue(ctx, id, userIdOf(res), venueId, auditSource(req)) });
  });

  return router;
}

import { z } from 'zod';
import { Id } from '../schemas';
import { PublicUser } from './common';

export const FriendRequestBody = z.strictObject({ userId: Id });
export type FriendRequestBody = z.infer<typeof FriendRequestBody>;

export const FriendshipState = z.enum(['none', 'outgoing', 'incoming', 'friends']);
export const FriendshipResponse = z.object({ userId: z.string(), state: FriendshipState });
export type FriendshipResponse = z.infer<typeof FriendshipResponse>;

export const FriendsResponse = z.object({
  friends: z.array(PublicUser.extend({ since: z.string() })),
  /** Requests others sent me. */
  incoming: z.array(PublicUser.extend({ requestedAt: z.string() })),
  /** Requests I sent. */
  outgoing: z.array(PublicUser.extend({ requestedAt: z.string() })),
});
export type FriendsResponse = z.infer<typeof FriendsResponse>;

export const BlockBody = z.strictObject({ userId: Id });
export const BlocksResponse = z.object({ blocked: z.array(PublicUser.extend({ blockedAt: z.string() })) });
export type BlocksResponse = z.infer<typeof BlocksResponse>;

export const GroupName = z.string().trim().min(1).max(80);
export const CreateGroupBody = z.strictObject({ name: GroupName });
export const GroupInviteBody = z.strictObject({ userId: Id });
export const GroupJoinBody = z.strictObject({ inviteCode: z.string().min(20).max(2_048) });
export const GroupVenueBody = z.strictObject({ venueId: Id.nullable() });

export const GroupMemberView = PublicUser.extend({ isOwner: z.boolean(), joinedAt: z.string() });
export const GroupVenueView = z.object({ id: z.string(), slug: z.string(), name: z.string(), latitude: z.number(), longitude: z.number() });

export const GroupView = z.object({
  id: z.string(),
  name: z.string(),
  currentVenue: GroupVenueView.nullable(),
  members: z.array(GroupMemberView),
  createdAt: z.string(),
});
export type GroupView = z.infer<typeof GroupView>;
export const GroupsResponse = z.object({ groups: z.array(GroupView) });
export const GroupMembersResponse = z.object({ members: z.array(GroupMemberView) });
export const GroupInviteResponse = z.object({
  /** Give this to the invitee (it is also pushed to their devices); only they can use it. */
  inviteCode: z.string(),
  expiresAt: z.string(),
});

import { z } from 'zod';
import type { ErrorCode } from '../errors';
import { OkResponse, IdParams, PublicUser, UserIdParams } from './common';
import {
  CodeRequestBody,
  CodeRequestResponse,
  CodeVerifyBody,
  DevLoginBody,
  ProviderCredentialBody,
  ProviderParams,
  ProvidersResponse,
  RefreshBody,
  SessionResponse,
  UserView,
} from './auth';
import { NearbyVenuesQuery, NearbyVenuesResponse, VenueView } from './venues';
import {
  BlockBody,
  BlocksResponse,
  CreateGroupBody,
  FriendRequestBody,
  FriendsResponse,
  FriendshipResponse,
  GroupInviteBody,
  GroupInviteResponse,
  GroupJoinBody,
  GroupMembersResponse,
  GroupVenueBody,
  GroupView,
  GroupsResponse,
} from './social';
import { DeviceTokenParams, DeviceView, DevicesResponse, RegisterDeviceBody } from './devices';
import { ReportBody, VenuePeopleQuery, VenuePeopleResponse } from './people';
import { orderOperations } from './orders';
import { staffOperations } from './staff';
import { metaOperations } from './meta';
import { DeleteAccountBody, DeleteAccountResponse } from './account';
import { devPresenceOperations } from './dev-presence';

/**
 * Every HTTP operation with the schemas it is validated with: the OpenAPI document is generated from
 * this list, so documentation cannot drift from validation. Other features append their operations.
 */
export interface HttpOperation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style: `/api/venues/{id}`. */
  path: string;
  summary: string;
  tag: string;
  auth: 'required' | 'optional' | 'none';
  devOnly?: boolean;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Request headers the route validates (e.g. `Idempotency-Key`), one property per header. */
  headers?: z.ZodType;
  /** Success status → body schema (null: no body). */
  responses: Record<number, z.ZodType | null>;
  /** Media type of the success body (`application/json` unless set). */
  produces?: string;
  /**
   * Error codes this operation answers beyond the ones every operation can (VALIDATION when it takes
   * input, UNAUTHENTICATED/FORBIDDEN when signed in, NOT_FOUND with a path id, RATE_LIMITED, INTERNAL, UNAVAILABLE).
   */
  errors?: ErrorCode[];
}

const Empty = null;

export const httpOperations: HttpOperation[] = [
  {
    method: 'post',
    path: '/api/auth/dev-login',
    summary: 'Sign into (or create) an account by email, dev mode only',
    tag: 'auth',
    auth: 'none',
    devOnly: true,
    body: DevLoginBody,
    responses: { 200: SessionResponse },
  },
  {
    method: 'post',
    path: '/api/auth/code/request',
    summary: 'Send a 6-digit one-time code by email or SMS',
    tag: 'auth',
    auth: 'none',
    body: CodeRequestBody,
    responses: { 202: CodeRequestResponse },
  },
  {
    method: 'post',
    path: '/api/auth/code/verify',
    summary: 'Sign in with a one-time code',
    tag: 'auth',
    auth: 'none',
    body: CodeVerifyBody,
    responses: { 200: SessionResponse },
  },
  {
    method: 'post',
    path: '/api/auth/oauth/{provider}',
    summary:
      'Sign in with a provider: ID token (Google, Apple), access token (Facebook, Instagram) or authorization code (TikTok, Snapchat, X)',
    tag: 'auth',
    auth: 'none',
    params: ProviderParams,
    body: ProviderCredentialBody,
    responses: { 200: SessionResponse, 201: SessionResponse },
  },
  {
    method: 'post',
    path: '/api/auth/link/{provider}',
    summary: 'Link a provider account to the signed-in user',
    tag: 'auth',
    auth: 'required',
    params: ProviderParams,
    body: ProviderCredentialBody,
    responses: { 200: z.object({ user: UserView }) },
  },
  {
    method: 'get',
    path: '/api/me/providers',
    summary: 'Sign-in providers linked to my account and those the server accepts',
    tag: 'auth',
    auth: 'required',
    responses: { 200: ProvidersResponse },
  },
  {
    method: 'post',
    path: '/api/me/providers/{provider}',
    summary: 'Link a provider (409 if that provider account belongs to another user)',
    tag: 'auth',
    auth: 'required',
    params: ProviderParams,
    body: ProviderCredentialBody,
    responses: { 200: ProvidersResponse },
  },
  {
    method: 'delete',
    path: '/api/me/providers/{provider}',
    summary: 'Unlink a provider (409 if it is the last way to sign in)',
    tag: 'auth',
    auth: 'required',
    params: ProviderParams,
    responses: { 200: ProvidersResponse },
  },
  {
    method: 'post',
    path: '/api/auth/refresh',
    summary: 'Rotate a refresh token for a new access token',
    tag: 'auth',
    auth: 'none',
    body: RefreshBody,
    responses: { 200: SessionResponse },
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    summary: 'Revoke the session a refresh token belongs to',
    tag: 'auth',
    auth: 'none',
    body: RefreshBody,
    responses: { 204: Empty },
  },
  {
    method: 'post',
    path: '/api/auth/logout-all',
    summary: 'Revoke every session of the signed-in user',
    tag: 'auth',
    auth: 'required',
    responses: { 200: z.object({ revoked: z.number().int() }) },
  },
  {
    method: 'get',
    path: '/api/me',
    summary: 'The signed-in user',
    tag: 'auth',
    auth: 'required',
    responses: { 200: z.object({ user: UserView }) },
  },
  {
    method: 'delete',
    path: '/api/me',
    summary:
      'Delete my account (confirmed with a fresh one-time code): ends my stay, open treats, devices and sessions; money and audit rows stay, anonymized',
    tag: 'auth',
    auth: 'required',
    body: DeleteAccountBody,
    responses: { 200: DeleteAccountResponse },
  },

  {
    method: 'get',
    path: '/api/venues',
    summary: 'Nearest venues with live counts, friends present and tonight’s specials',
    tag: 'venues',
    auth: 'optional',
    query: NearbyVenuesQuery,
    responses: { 200: NearbyVenuesResponse },
  },
  {
    method: 'get',
    path: '/api/venues/{id}',
    summary: 'One venue with live data',
    tag: 'venues',
    auth: 'optional',
    params: IdParams,
    responses: { 200: z.object({ venue: VenueView }) },
  },

  {
    method: 'get',
    path: '/api/venues/{id}/people',
    summary: 'Who is here and open to a treat or buying (only for people checked in here)',
    tag: 'venues',
    auth: 'required',
    params: IdParams,
    query: VenuePeopleQuery,
    responses: { 200: VenuePeopleResponse },
  },
  {
    method: 'post',
    path: '/api/users/{id}/report',
    summary: 'Report a user to the moderators',
    tag: 'social',
    auth: 'required',
    params: IdParams,
    body: ReportBody,
    responses: { 202: OkResponse },
  },

  {
    method: 'get',
    path: '/api/friends',
    summary: 'Friends and pending requests',
    tag: 'social',
    auth: 'required',
    responses: { 200: FriendsResponse },
  },
  {
    method: 'post',
    path: '/api/friends/requests',
    summary: 'Send a friend request (accepts theirs if they asked first)',
    tag: 'social',
    auth: 'required',
    body: FriendRequestBody,
    responses: { 200: FriendshipResponse, 201: FriendshipResponse },
  },
  {
    method: 'post',
    path: '/api/friends/requests/{userId}/accept',
    summary: 'Accept a request from a user',
    tag: 'social',
    auth: 'required',
    params: UserIdParams,
    responses: { 200: FriendshipResponse },
  },
  {
    method: 'delete',
    path: '/api/friends/{userId}',
    summary: 'Unfriend, decline or cancel a request',
    tag: 'social',
    auth: 'required',
    params: UserIdParams,
    responses: { 204: Empty },
  },
  { method: 'get', path: '/api/blocks', summary: 'Users I blocked', tag: 'social', auth: 'required', responses: { 200: BlocksResponse } },
  {
    method: 'post',
    path: '/api/blocks',
    summary: 'Block a user (ends any friendship)',
    tag: 'social',
    auth: 'required',
    body: BlockBody,
    responses: { 204: Empty },
  },
  {
    method: 'delete',
    path: '/api/blocks/{userId}',
    summary: 'Unblock a user',
    tag: 'social',
    auth: 'required',
    params: UserIdParams,
    responses: { 204: Empty },
  },
  { method: 'get', path: '/api/groups', summary: 'My groups', tag: 'groups', auth: 'required', responses: { 200: GroupsResponse } },
  {
    method: 'post',
    path: '/api/groups',
    summary: 'Create a group (I am its owner)',
    tag: 'groups',
    auth: 'required',
    body: CreateGroupBody,
    responses: { 201: z.object({ group: GroupView }) },
  },
  {
    method: 'get',
    path: '/api/groups/{id}',
    summary: 'A group I am in, with members and current venue',
    tag: 'groups',
    auth: 'required',
    params: IdParams,
    responses: { 200: z.object({ group: GroupView }) },
  },
  {
    method: 'get',
    path: '/api/groups/{id}/members',
    summary: 'Members of a group I am in',
    tag: 'groups',
    auth: 'required',
    params: IdParams,
    responses: { 200: GroupMembersResponse },
  },
  {
    method: 'post',
    path: '/api/groups/{id}/invites',
    summary: 'Invite a user (answers a code for them; also pushed)',
    tag: 'groups',
    auth: 'required',
    params: IdParams,
    body: GroupInviteBody,
    responses: { 201: GroupInviteResponse },
  },
  {
    method: 'post',
    path: '/api/groups/{id}/join',
    summary: 'Join with an invite code addressed to me',
    tag: 'groups',
    auth: 'required',
    params: IdParams,
    body: GroupJoinBody,
    responses: { 200: z.object({ group: GroupView }) },
  },
  {
    method: 'post',
    path: '/api/groups/{id}/leave',
    summary: 'Leave a group (the last one out deletes it)',
    tag: 'groups',
    auth: 'required',
    params: IdParams,
    responses: { 200: z.object({ deleted: z.boolean() }) },
  },
  {
    method: 'put',
    path: '/api/groups/{id}/venue',
    summary: "Set or clear the group's current venue",
    tag: 'groups',
    auth: 'required',
    params: IdParams,
    body: GroupVenueBody,
    responses: { 200: z.object({ group: GroupView }) },
  },

  {
    method: 'get',
    path: '/api/devices',
    summary: 'My registered devices',
    tag: 'devices',
    auth: 'required',
    responses: { 200: DevicesResponse },
  },
  {
    method: 'post',
    path: '/api/devices',
    summary: 'Register or refresh a push token (call on every app open)',
    tag: 'devices',
    auth: 'required',
    body: RegisterDeviceBody,
    responses: { 200: z.object({ device: DeviceView }) },
  },
  {
    method: 'delete',
    path: '/api/devices/{token}',
    summary: 'Unregister a push token',
    tag: 'devices',
    auth: 'required',
    params: DeviceTokenParams,
    responses: { 204: Empty },
  },

  ...orderOperations,
  ...staffOperations,
  ...metaOperations,
  ...devPresenceOperations,
];

// Re-exported so a client generator finds the building blocks beside the operations.
export { OkResponse, PublicUser };

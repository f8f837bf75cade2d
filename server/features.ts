import type { Router } from 'express';
import type { Config } from './config/config';
import type { AppContext } from './context';
import type { Job } from './lib/job';
import type { Services } from './services';
import { buildRealtime } from './realtime/realtime-feature';
import type { SocketFeature } from './realtime/socket-server';
import { authRoutes } from './http/routes/auth-routes';
import { deviceRoutes } from './http/routes/device-routes';
import { providerRoutes } from './http/routes/provider-routes';
import { openApiRoutes } from './http/routes/openapi-routes';
import { socialRoutes } from './http/routes/social-routes';
import { devPaymentRoutes } from './http/routes/dev-payment-routes';
import { devPresenceRoutes } from './http/routes/dev-presence-routes';
import { orderRoutes } from './http/routes/order-routes';
import { redemptionRoutes } from './http/routes/redemption-routes';
import { webhookRoutes } from './http/routes/webhook-routes';
import { staffOrderRoutes } from './http/routes/staff-order-routes';
import { webRoutes } from './http/routes/web-routes';
import { devStaffRoutes } from './http/routes/dev-staff-routes';
import { staffRoomFeature } from './realtime/staff-room';
import { TokenExpiry, tokenExpiryFeature } from './realtime/token-expiry';
import { accountRoutes } from './http/routes/account-routes';
import { buildVenuePeople } from './venue-people/people-feature';
import { buildVenues } from './venues/venues-feature';
import { DynamoNodeLeases, MemoryNodeLeases, type NodeLeaseStore } from './presence/node-leases';
import { tableName } from './storage/dynamo-tables';
import { nodeLeaseMs, realtimeSettings, sessionSettings, venuePeopleSettings, venueSettings, webPageSettings } from './settings';

export interface Features {
  routers: Router[];
  socketFeatures: SocketFeature[];
  jobs: Job[];
}

/** DynamoDB rows in cluster mode (independent of Redis), a trivial in-memory row in embedded mode (one node, which never outlives itself). */
function nodeLeases(ctx: AppContext, config: Config): NodeLeaseStore {
  if (!ctx.dynamo || !config.dynamo) return new MemoryNodeLeases();
  const leaseMs = nodeLeaseMs(config);
  return new DynamoNodeLeases(ctx.dynamo.doc, tableName(config.dynamo.tablePrefix, 'presence'), Math.max(200, Math.floor(leaseMs / 4)));
}

/**
 * Every product feature, in one list. Each module builds its routes, socket handlers and jobs from
 * the shared context and the settings given here; the order of routers is the order Express tries
 * them. Dev-only routes are mounted only in dev mode.
 */
export async function buildFeatures(
  ctx: AppContext,
  config: Config,
  services: Services,
  opts: { isDraining(): boolean },
): Promise<Features> {
  const realtime = await buildRealtime(ctx, realtimeSettings(config, nodeLeases(ctx, config)), opts.isDraining);
  const people = buildVenuePeople(ctx, realtime, venuePeopleSettings(config));
  const venues = buildVenues(ctx, realtime, venueSettings(config));
  const { orders, devices, push, codes, signIn, groupInvites } = services;
  const devMode = config.devMode;
  const devPayments = devMode && orders.simulated ? devPaymentRoutes(ctx, orders.simulated) : undefined;
  const devStaff = devMode ? devStaffRoutes(ctx) : undefined;
  const tokenExpiry = new TokenExpiry();
  const devPresence = devMode ? devPresenceRoutes(ctx) : undefined;
  const features: Features = {
    routers: [
      authRoutes(ctx, { codes, providers: signIn, sessions: sessionSettings(config), devMode }),
      providerRoutes(ctx, signIn),
      accountRoutes(ctx, { realtime, orders, devices, codes }),
      venues.router,
      people.router,
      people.safetyRouter,
      socialRoutes(ctx, { push, invites: groupInvites }),
      deviceRoutes(ctx, devices),
      openApiRoutes(devMode),
      webhookRoutes(orders),
      orderRoutes(ctx, orders),
      redemptionRoutes(ctx, orders),
      staffOrderRoutes(ctx),
      webRoutes(webPageSettings(config)),
      ...(devPayments ? [devPayments] : []),
      ...(devStaff ? [devStaff] : []),
      ...(devPresence ? [devPresence] : []),
    ],
    socketFeatures: [
      ...realtime.socketFeatures,
      staffRoomFeature(ctx, realtime.guard),
      tokenExpiryFeature(ctx.tokens, realtime.guard, tokenExpiry),
    ],
    jobs: [people.job, ...realtime.jobs, orders.expiry, tokenExpiry.job()],
  };
  return features;
}

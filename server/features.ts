import type { Router } from 'express';
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

export interface Features {
  routers: Router[];
  socketFeatures: SocketFeature[];
  jobs: Job[];
}

/**
 * Every product feature, in one list. Each module builds its routes, socket handlers and jobs from
 * the shared context; the order of routers is the order Express tries them.
 */
export async function buildFeatures(ctx: AppContext, services: Services, opts: { isDraining(): boolean }): Promise<Features> {
  const realtime = await buildRealtime(ctx, opts.isDraining);
  const people = buildVenuePeople(ctx, realtime);
  const venues = buildVenues(ctx, realtime);
  const { orders, devices, push, codes } = services;
  const devPayments = devPaymentRoutes(ctx, orders);
  const devStaff = devStaffRoutes(ctx);
  const tokenExpiry = new TokenExpiry();
  const devPresence = devPresenceRoutes(ctx);
  const features: Features = {
    routers: [
      authRoutes(ctx, codes),
      providerRoutes(ctx),
      accountRoutes(ctx, { realtime, orders, devices, codes }),
      venues.router,
      people.router,
      people.safetyRouter,
      socialRoutes(ctx, push),
      deviceRoutes(ctx, devices),
      openApiRoutes(ctx),
      webhookRoutes(orders),
      orderRoutes(ctx, orders),
      redemptionRoutes(ctx, orders),
      staffOrderRoutes(ctx),
      webRoutes(ctx),
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

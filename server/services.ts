import { createCodeSender } from './auth/codes/build-code-sender';
import type { OneTimeCodes } from './auth/codes/one-time-codes';
import { buildOneTimeCodes } from './auth/codes/one-time-codes';
import { SignInProviders } from './auth/oauth/providers';
import type { Config } from './config/config';
import type { AppContext } from './context';
import { buildPushSender } from './devices/build-push-sender';
import { DynamoDeviceDirectory, PostgresDeviceDirectory, type DeviceDirectory } from './devices/device-directory';
import type { PushSender } from './devices/push-sender';
import type { Stoppable } from './lib/job';
import { DynamoIdempotencyStore } from './orders/idempotency/dynamo-idempotency-store';
import { MemoryIdempotencyStore } from './orders/idempotency/memory-idempotency-store';
import { buildOrders, type Orders } from './orders/orders-module';
import type { PaymentGateway } from './orders/payments/payment-gateway';
import { memoryPaymentState, redisPaymentState, SimulatedGateway } from './orders/payments/simulated-gateway';
import { StripeGateway } from './orders/payments/stripe-gateway';
import {
  codeSenderSettings,
  codeSettings,
  deviceTtlMs,
  orderExpirySettings,
  orderSettings,
  pushSettings,
  signInProviderSettings,
} from './settings';
import { GroupInvites } from './social/group-invites';

/**
 * The services that own something (a provider connection, a retry queue, an SMTP pool) or that
 * several features share, each built exactly once here, in dependency order, with the
 * implementation the config picks. Features receive the ones they use as arguments; tests reach
 * them through `RunningServer.services`.
 */
export interface Services {
  devices: DeviceDirectory;
  push: PushSender;
  codes: OneTimeCodes;
  orders: Orders;
  signIn: SignInProviders;
  groupInvites: GroupInvites;
}

export interface BuiltServices {
  services: Services;
  /** In build order; the composition root stops them in reverse. */
  stoppables: Stoppable[];
}

export function buildServices(ctx: AppContext, config: Config): BuiltServices {
  // The DynamoDB table beside the presence store when clustered (on the process's one client), PostgreSQL otherwise.
  const devices =
    config.dynamo && ctx.dynamo
      ? new DynamoDeviceDirectory(ctx.dynamo, config.dynamo.tablePrefix, deviceTtlMs(config))
      : new PostgresDeviceDirectory(ctx, deviceTtlMs(config));
  const push = buildPushSender(ctx, devices, pushSettings(config));
  const codes = buildOneTimeCodes(ctx, createCodeSender(codeSenderSettings(config), ctx.logger), codeSettings(config));
  const orders = buildOrders(ctx, {
    push: push.sender,
    ...payments(ctx, config),
    orders: orderSettings(config),
    expiry: orderExpirySettings(config),
  });
  return {
    services: {
      devices,
      push: push.sender,
      codes: codes.codes,
      orders,
      signIn: new SignInProviders(signInProviderSettings(config), ctx.now),
      // Signed with a key derived for this purpose only, so an invite can never pass as an access token.
      groupInvites: new GroupInvites(ctx.tokens.deriveKey('group-invite'), ctx.now),
    },
    stoppables: [...push.stoppables, ...codes.stoppables],
  };
}

/** Stripe when keys are configured, the simulation otherwise; the DynamoDB idempotency table when DynamoDB is, a Map otherwise. */
function payments(ctx: AppContext, config: Config) {
  let gateway: PaymentGateway;
  let simulated: SimulatedGateway | undefined;
  if (config.stripe) {
    gateway = new StripeGateway({
      secretKey: config.stripe.secretKey,
      webhookSecret: config.stripe.webhookSecret,
      apiBase: config.stripe.apiBase,
    });
  } else {
    // Several nodes without Stripe share the simulated intents through Redis; each signs its own
    // events, and the dev route delivers them to its own node, so the secret can stay per process.
    simulated = new SimulatedGateway(ctx.redis ? redisPaymentState(ctx.redis.main) : memoryPaymentState(), { now: ctx.now });
    gateway = simulated;
  }
  const timings = { ttlMs: config.IDEMPOTENCY_TTL_SECONDS * 1000, leaseMs: 60_000 };
  // The process's one DynamoDB client, destroyed by the composition root after everything using it.
  const idempotency =
    config.dynamo && ctx.dynamo
      ? new DynamoIdempotencyStore(ctx.dynamo.doc, config.dynamo.tablePrefix, timings)
      : new MemoryIdempotencyStore(timings);
  return { gateway, simulated, idempotency };
}

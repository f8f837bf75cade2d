import type { AppContext } from '../context';
import type { PushSender } from '../devices/push-sender';
import { DynamoIdempotencyStore } from './idempotency/dynamo-idempotency-store';
import type { IdempotencyStore } from './idempotency/idempotency-store';
import { MemoryIdempotencyStore } from './idempotency/memory-idempotency-store';
import { OrderExpiryJob } from './order-expiry-job';
import { OrderMoney } from './order-money';
import { OrderNotifier } from './order-notifier';
import { OrderService } from './order-service';
import type { PaymentGateway } from './payments/payment-gateway';
import { memoryPaymentState, redisPaymentState, SimulatedGateway } from './payments/simulated-gateway';
import { StripeGateway } from './payments/stripe-gateway';
import { RedemptionService } from './redemption/redemption-service';
import { StripeWebhooks } from './webhooks/stripe-webhooks';

export interface Orders {
  gateway: PaymentGateway;
  /** Set when payments are simulated (no Stripe keys): the dev routes drive it. */
  simulated: SimulatedGateway | undefined;
  idempotency: IdempotencyStore;
  money: OrderMoney;
  notifier: OrderNotifier;
  orders: OrderService;
  redemptions: RedemptionService;
  webhooks: StripeWebhooks;
  expiry: OrderExpiryJob;
}

/**
 * Wiring for everything that moves money, built once per server: Stripe when keys are configured,
 * the simulation otherwise; the DynamoDB idempotency table when DynamoDB is, a Map otherwise.
 * Built once by the composition root; features and tests get these instances from it.
 */
export function buildOrders(ctx: AppContext, deps: { push: PushSender }): Orders {
  const { config } = ctx;

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
  let idempotency: IdempotencyStore;
  if (config.dynamo && ctx.dynamo) {
    // The process's one DynamoDB client, destroyed by the composition root after everything using it.
    idempotency = new DynamoIdempotencyStore(ctx.dynamo.doc, config.dynamo.tablePrefix, timings);
  } else {
    idempotency = new MemoryIdempotencyStore(timings);
  }

  const notifier = new OrderNotifier(ctx, deps.push);
  const money = new OrderMoney(ctx, gateway);
  return {
    gateway,
    simulated,
    idempotency,
    money,
    notifier,
    orders: new OrderService(ctx, gateway, money, notifier),
    redemptions: new RedemptionService(ctx, money, notifier),
    webhooks: new StripeWebhooks(ctx, gateway, money, notifier),
    expiry: new OrderExpiryJob(ctx, money, notifier),
  };
}

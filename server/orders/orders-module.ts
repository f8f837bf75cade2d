import type { AppContext } from '../context';
import type { PushSender } from '../devices/push-sender';
import type { IdempotencyStore } from './idempotency/idempotency-store';
import { OrderExpiryJob, type OrderExpirySettings } from './order-expiry-job';
import { OrderMoney } from './order-money';
import { OrderNotifier } from './order-notifier';
import { OrderService, type OrderSettings } from './order-service';
import type { PaymentGateway } from './payments/payment-gateway';
import type { SimulatedGateway } from './payments/simulated-gateway';
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

export interface OrdersDeps {
  push: PushSender;
  /** Stripe, or the simulation (then also `simulated`), as the composition root picked. */
  gateway: PaymentGateway;
  simulated: SimulatedGateway | undefined;
  idempotency: IdempotencyStore;
  orders: OrderSettings;
  expiry: OrderExpirySettings;
}

/**
 * Everything that moves money, built once per server by the composition root, which picks the
 * gateway (Stripe when keys are set, the simulation otherwise) and the idempotency store (DynamoDB
 * when clustered, a Map otherwise); features and tests get these instances from it.
 */
export function buildOrders(ctx: AppContext, deps: OrdersDeps): Orders {
  const { gateway, simulated, idempotency } = deps;
  const notifier = new OrderNotifier(ctx, deps.push);
  const money = new OrderMoney(ctx, gateway);
  return {
    gateway,
    simulated,
    idempotency,
    money,
    notifier,
    orders: new OrderService(ctx, gateway, money, notifier, deps.orders),
    redemptions: new RedemptionService(ctx, money, notifier),
    webhooks: new StripeWebhooks(ctx, gateway, money, notifier),
    expiry: new OrderExpiryJob(ctx, money, notifier, deps.expiry),
  };
}

import fc from 'fast-check';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  moneyEffectOf,
  nextStatus,
  OrderEvent,
  STATUS_RANK,
  TERMINAL_STATUSES,
  TRANSITIONS,
  type OrderStatus,
} from '../../server/orders/order-state-machine';
import { api } from '../helpers/auth';
import { StripeDouble } from '../helpers/stripe-double';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { buy, freshPair, orderRow, ordersWorld, type OrdersWorld } from './fixtures';

const EVENTS = Object.values(OrderEvent);
const allowed = (from: OrderStatus, to: OrderStatus) => EVENTS.some((e) => TRANSITIONS[e].from.includes(from) && TRANSITIONS[e].to === to);

describe('order state machine (model)', () => {
  it('under any sequence of events: no skip, no going back, money captured at most once and only for a drink', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...EVENTS), { maxLength: 30 }), (events) => {
        let status: OrderStatus = 'PENDING';
        let money: 'none' | 'held' | 'captured' | 'released' = 'none';
        let captures = 0;
        const path: OrderStatus[] = [status];
        for (const e of events) {
          const to = nextStatus(status, e);
          if (!to) continue;
          expect(STATUS_RANK[to]).toBeGreaterThan(STATUS_RANK[status]);
          expect(TERMINAL_STATUSES.includes(status)).toBe(false);
          if (e === OrderEvent.PaymentAuthorized) money = 'held';
          const effect = moneyEffectOf(to);
          if (effect === 'capture') {
            expect(money).toBe('held');
            captures++;
            money = 'captured';
          }
          if (effect === 'release' && money === 'held') money = 'released';
          status = to;
          path.push(status);
        }
        expect(captures).toBeLessThanOrEqual(1);
        if (status === 'REDEEMED') expect(path).toEqual(['PENDING', 'PAID', 'ACCEPTED', 'REDEEMED']);
        if (status === 'ACCEPTED') expect(path).toEqual(['PENDING', 'PAID', 'ACCEPTED']);
        if (money === 'held') expect(['PAID', 'ACCEPTED']).toContain(status);
      }),
      { numRuns: 2_000 },
    );
  });
});

// ---- the same properties against the real server, Stripe double and webhooks -------------------

type Action =
  | 'pay'
  | 'staleCreatedWebhook'
  | 'succeededWebhook'
  | 'voidAtStripe'
  | 'replayLastWebhook'
  | 'accept'
  | 'reject'
  | 'cancel'
  | 'scan'
  | 'confirm'
  | 'release'
  | 'expire';
const ACTIONS: Action[] = [
  'pay',
  'staleCreatedWebhook',
  'succeededWebhook',
  'voidAtStripe',
  'replayLastWebhook',
  'accept',
  'reject',
  'cancel',
  'scan',
  'confirm',
  'release',
  'expire',
];
const HAPPY: Action[] = ['pay', 'accept', 'scan', 'confirm'];
/**
 * Random actions, half the time with the happy path's four steps spread among them in order, so a
 * fair share of runs gets as far as a captured drink with stale, duplicate and hostile events around it.
 */
const actionsArb = fc
  .record({
    happy: fc.boolean(),
    noise: fc.array(fc.constantFrom(...ACTIONS), { maxLength: 8 }),
    at: fc.array(fc.nat({ max: 8 }), { minLength: 4, maxLength: 4 }),
  })
  .map(({ happy, noise, at }) => {
    if (!happy) return noise.length ? noise : (['pay'] as Action[]);
    const out = [...noise];
    const spots = [...at].sort((a, b) => a - b);
    HAPPY.forEach((step, i) => out.splice(Math.min(spots[i]! + i, out.length), 0, step));
    return out;
  });
const reached = new Map<string, number>();

let stripe: StripeDouble;
let ts: TestServer;
let world: OrdersWorld;

describe('order state machine (server, random event orders)', () => {
  beforeAll(async () => {
    stripe = await new StripeDouble().start();
    ts = await startTestServer(
      { ...stripe.env(), ORDER_EXPIRY_SWEEP_INTERVAL_MS: '3600000', RATE_LIMIT_WRITES_PER_MINUTE: '100000' },
      { label: 'orders_model' },
    );
    world = await ordersWorld(ts);
  });
  afterAll(async () => {
    await ts?.close();
    await stripe?.stop();
  });

  it('whatever order requests, webhooks and expiry arrive in, the order only moves forward and money moves once', async () => {
    await fc.assert(
      fc.asyncProperty(actionsArb, async (actions) => {
        const w = await freshPair(ts, world);
        const { order, payment } = await buy(ts, w);
        const piId = payment.paymentIntentId;
        const createdEvent = stripe.event('payment_intent.created', piId);
        let lastEvent: Stripe.Event = createdEvent;
        let code: string | undefined;
        let redemptionId: string | undefined;
        let prev: OrderStatus = 'PENDING';
        const deliver = async (e: Stripe.Event) => {
          lastEvent = e;
          const r = await stripe.deliver(ts.url, e);
          expect(r.status).toBe(200);
        };
        const call = async (p: Promise<{ status: number; body: any }>) => {
          const r = await p;
          expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
          return r;
        };

        for (const a of actions) {
          const pi = stripe.intent(piId);
          switch (a) {
            case 'pay':
              if (pi.status === 'requires_payment_method') {
                stripe.authorize(piId);
                await deliver(stripe.event('payment_intent.amount_capturable_updated', piId));
              }
              break;
            case 'staleCreatedWebhook':
              await deliver(createdEvent);
              break;
            case 'succeededWebhook':
              await deliver(stripe.event('payment_intent.succeeded', piId));
              break;
            case 'voidAtStripe':
              if (pi.status === 'requires_payment_method' || pi.status === 'requires_capture') {
                stripe.cancelExternally(piId);
                await deliver(stripe.event('payment_intent.canceled', piId));
              }
              break;
            case 'replayLastWebhook':
              await deliver(lastEvent);
              break;
            case 'accept': {
              const r = await call(api(ts, w.recipient.token).post(`/api/orders/${order.id}/accept`));
              if (r.status === 200) {
                code = r.body.qrCode;
                redemptionId = r.body.redemption.id;
              }
              break;
            }
            case 'reject':
              await call(api(ts, w.recipient.token).post(`/api/orders/${order.id}/reject`));
              break;
            case 'cancel':
              await call(api(ts, w.buyer.token).post(`/api/orders/${order.id}/cancel`));
              break;
            case 'scan':
              if (code) await call(api(ts, w.staff.token).post('/api/redemptions/scan', { code }));
              break;
            case 'confirm':
              if (redemptionId) await call(api(ts, w.staff.token).post(`/api/redemptions/${redemptionId}/confirm`));
              break;
            case 'release':
              if (redemptionId) await call(api(ts, w.staff.token).post(`/api/redemptions/${redemptionId}/release`));
              break;
            case 'expire':
              await ts.server.services.orders.expiry.runOnce(Date.now() + 25 * 3_600_000);
              break;
          }
          const row = await orderRow(ts, order.id);
          const now = row.status as OrderStatus;
          if (now !== prev) expect(allowed(prev, now), `${prev} → ${now} after ${a}`).toBe(true);
          expect(STATUS_RANK[now]).toBeGreaterThanOrEqual(STATUS_RANK[prev]);
          prev = now;
          const captures = stripe.captures.get(piId) ?? 0;
          expect(captures).toBeLessThanOrEqual(1);
          expect(captures === 1, `captured ${captures} for ${now}`).toBe(now === 'REDEEMED');
          if (now === 'REDEEMED') expect(row.redemption?.status).toBe('REDEEMED');
          if (now === 'ACCEPTED') expect(['PENDING', 'SCANNED']).toContain(row.redemption?.status);
        }

        // However it ended, an order that ended without a drink holds no money once the job has run.
        await ts.server.services.orders.expiry.runOnce(Date.now() + 25 * 3_600_000);
        const end = await orderRow(ts, order.id);
        reached.set(prev, (reached.get(prev) ?? 0) + 1);
        if (end.status !== 'REDEEMED') {
          expect(end.status).not.toBe('PAID');
          expect(['canceled', 'requires_payment_method']).toContain(stripe.intent(piId).status);
          expect(end.releasedAt).not.toBeNull();
        }
      }),
      { numRuns: 30 },
    );
    // The walk must actually cover the interesting endings, or the property proves little.
    expect(reached.get('REDEEMED') ?? 0).toBeGreaterThan(0);
    expect([...reached.keys()].length).toBeGreaterThanOrEqual(3);
  }, 240_000);
});

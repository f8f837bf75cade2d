import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { PaymentError, type CreatePaymentInput, type PaymentGateway, type PaymentIntentInfo } from './payment-gateway';

/**
 * Payments without Stripe (embedded/dev mode): PaymentIntents live in this process (or in Redis when
 * several nodes share one), follow Stripe's status rules, and announce changes as Stripe-shaped
 * events that the dev routes sign with `webhookSecret` and deliver to our own webhook route — so the
 * simulated path exercises exactly the code real Stripe drives.
 */
export interface SimulatedPaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  amount_refunded: number;
  currency: string;
  capture_method: 'manual';
  client_secret: string;
  status: string;
  metadata: Record<string, string>;
  description: string;
  created: number;
  last_payment_error: { code: string; message: string } | null;
}

export interface SimulatedEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  livemode: false;
  pending_webhooks: number;
  request: { id: null; idempotency_key: null };
  type: string;
  data: { object: SimulatedPaymentIntent };
}

/** Where simulated PaymentIntents live: one process, or Redis so every node sees the same ones. */
export interface SimulatedPaymentState {
  get(id: string): Promise<SimulatedPaymentIntent | undefined>;
  /** Atomic read-modify-write; `fn` may run more than once when another node wrote in between. */
  update(id: string, fn: (pi: SimulatedPaymentIntent) => SimulatedPaymentIntent): Promise<SimulatedPaymentIntent>;
  /** Stores `pi` under `idempotencyKey` unless that key already made one; returns the one that wins. */
  create(idempotencyKey: string, pi: SimulatedPaymentIntent): Promise<SimulatedPaymentIntent>;
}

export function memoryPaymentState(): SimulatedPaymentState {
  const intents = new Map<string, SimulatedPaymentIntent>();
  const keys = new Map<string, string>();
  return {
    async get(id) {
      const pi = intents.get(id);
      return pi ? structuredClone(pi) : undefined;
    },
    async update(id, fn) {
      const pi = intents.get(id);
      if (!pi) throw new PaymentError('not_found', `No such payment_intent: '${id}'`);
      const next = fn(structuredClone(pi));
      intents.set(id, next);
      return structuredClone(next);
    },
    async create(key, pi) {
      const existing = keys.get(key);
      if (existing) return structuredClone(intents.get(existing)!);
      keys.set(key, pi.id);
      intents.set(pi.id, pi);
      return structuredClone(pi);
    },
  };
}

const CAS = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 else return 0 end`;
const TTL_SECONDS = 8 * 24 * 3600;

export function redisPaymentState(redis: Redis): SimulatedPaymentState {
  const piKey = (id: string) => `simpay:pi:${id}`;
  return {
    async get(id) {
      const raw = await redis.get(piKey(id));
      return raw ? (JSON.parse(raw) as SimulatedPaymentIntent) : undefined;
    },
    async update(id, fn) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const raw = await redis.get(piKey(id));
        if (!raw) throw new PaymentError('not_found', `No such payment_intent: '${id}'`);
        const next = fn(JSON.parse(raw) as SimulatedPaymentIntent);
        const ok = Number(await redis.eval(CAS, 1, piKey(id), raw, JSON.stringify(next), String(TTL_SECONDS)));
        if (ok === 1) return next;
      }
      throw new PaymentError('transient', `payment_intent ${id} is changing too fast`);
    },
    async create(key, pi) {
      const won = await redis.set(`simpay:key:${key}`, pi.id, 'EX', 24 * 3600, 'NX');
      if (won === 'OK') {
        await redis.set(piKey(pi.id), JSON.stringify(pi), 'EX', TTL_SECONDS);
        return pi;
      }
      const id = await redis.get(`simpay:key:${key}`);
      for (let i = 0; i < 50 && id; i++) {
        const existing = await this.get(id);
        if (existing) return existing;
        // The winner sets the mapping before the intent: wait for its second write.
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new PaymentError('transient', `payment_intent for key ${key} is still being created`);
    },
  };
}

const id = (prefix: string) => `${prefix}_sim_${randomBytes(12).toString('hex')}`;

export class SimulatedGateway implements PaymentGateway {
  readonly kind = 'simulated' as const;
  readonly webhookSecret: string;

  constructor(
    private readonly state: SimulatedPaymentState,
    opts: { webhookSecret?: string; now?: () => number } = {},
  ) {
    // Nodes sharing Redis must share the secret too; a single node may invent one.
    this.webhookSecret = opts.webhookSecret ?? `whsec_sim_${randomBytes(24).toString('hex')}`;
    this.now = opts.now ?? Date.now;
  }

  private readonly now: () => number;

  async createPaymentIntent(input: CreatePaymentInput, idempotencyKey: string): Promise<PaymentIntentInfo> {
    const piId = id('pi');
    const pi: SimulatedPaymentIntent = {
      id: piId,
      object: 'payment_intent',
      amount: input.amountCents,
      amount_capturable: 0,
      amount_received: 0,
      amount_refunded: 0,
      currency: input.currency,
      capture_method: 'manual',
      client_secret: `${piId}_secret_${randomBytes(12).toString('hex')}`,
      status: 'requires_payment_method',
      metadata: { orderId: input.orderId, buyerId: input.buyerId, paymentMethod: input.paymentMethod },
      description: input.description,
      created: Math.floor(this.now() / 1000),
      last_payment_error: null,
    };
    return info(await this.state.create(idempotencyKey, pi));
  }

  async retrieve(paymentIntentId: string): Promise<PaymentIntentInfo> {
    const pi = await this.state.get(paymentIntentId);
    if (!pi) throw new PaymentError('not_found', `No such payment_intent: '${paymentIntentId}'`);
    return info(pi);
  }

  async capture(paymentIntentId: string): Promise<PaymentIntentInfo> {
    return info(
      await this.state.update(paymentIntentId, (pi) => {
        if (pi.status === 'succeeded') return pi;
        if (pi.status !== 'requires_capture') throw unexpected(pi, 'capture');
        return { ...pi, status: 'succeeded', amount_received: pi.amount_capturable, amount_capturable: 0 };
      }),
    );
  }

  async cancel(paymentIntentId: string): Promise<PaymentIntentInfo> {
    return info(
      await this.state.update(paymentIntentId, (pi) => {
        if (pi.status === 'canceled') return pi;
        if (pi.status === 'succeeded' || pi.status === 'processing') throw unexpected(pi, 'cancel');
        return { ...pi, status: 'canceled', amount_capturable: 0 };
      }),
    );
  }

  async refund(paymentIntentId: string): Promise<void> {
    await this.state.update(paymentIntentId, (pi) => {
      if (pi.status !== 'succeeded') throw unexpected(pi, 'refund');
      return { ...pi, amount_refunded: pi.amount_received };
    });
  }

  /**
   * What a customer's phone does with the client secret: authorize (→ requires_capture) or fail
   * (→ requires_payment_method, retryable as with Stripe). Returns the event Stripe would send.
   */
  async simulate(paymentIntentId: string, outcome: 'succeed' | 'fail'): Promise<SimulatedEvent> {
    const pi = await this.state.update(paymentIntentId, (p) => {
      if (p.status !== 'requires_payment_method' && p.status !== 'requires_confirmation' && p.status !== 'requires_action') {
        throw unexpected(p, outcome === 'succeed' ? 'confirm' : 'fail');
      }
      return outcome === 'succeed'
        ? { ...p, status: 'requires_capture', amount_capturable: p.amount, last_payment_error: null }
        : { ...p, status: 'requires_payment_method', last_payment_error: { code: 'card_declined', message: 'Your card was declined.' } };
    });
    return this.event(outcome === 'succeed' ? 'payment_intent.amount_capturable_updated' : 'payment_intent.payment_failed', pi);
  }

  event(type: string, pi: SimulatedPaymentIntent): SimulatedEvent {
    return {
      id: id('evt'),
      object: 'event',
      api_version: '2026-10-28.endive',
      created: Math.floor(this.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object: pi },
    };
  }
}

function unexpected(pi: SimulatedPaymentIntent, action: string): PaymentError {
  return new PaymentError('invalid_state', `You cannot ${action} this PaymentIntent because it has a status of ${pi.status}.`);
}

function info(pi: SimulatedPaymentIntent): PaymentIntentInfo {
  return {
    id: pi.id,
    status: pi.status,
    amount: pi.amount,
    currency: pi.currency,
    amountCapturable: pi.amount_capturable,
    amountReceived: pi.amount_received,
    amountRefunded: pi.amount_refunded,
    clientSecret: pi.client_secret,
    metadata: pi.metadata,
  };
}

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A local stand-in for the slice of Stripe's API the server calls (PaymentIntents create / retrieve /
 * capture / cancel, refunds), with Stripe's state rules and idempotency-key replay, so the real
 * `stripe` SDK runs unmodified against it. Tests play the customer's phone (`authorize`, `decline`)
 * and Stripe's webhook sender (`deliver`, signed with the SDK's own test-header helper).
 */
export interface DoublePaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  capture_method: string;
  client_secret: string;
  status: string;
  metadata: Record<string, string>;
  description: string | null;
  created: number;
  latest_charge: string | null;
  last_payment_error: { code: string; message: string } | null;
  livemode: false;
}

interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  refunded: boolean;
  payment_intent: string;
  captured: boolean;
}

type Form = Record<string, unknown>;

/** Stripe's bracket encoding (`metadata[orderId]=…`, `expand[0]=…`) back into objects and arrays. */
function parseForm(text: string): Form {
  const out: Form = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const parts = rawKey.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node: Record<string, unknown> = out;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Record<string, unknown>;
    });
  }
  return out;
}

const listOf = (v: unknown): string[] =>
  v && typeof v === 'object' ? Object.values(v as Record<string, string>) : typeof v === 'string' ? [v] : [];

class StripeFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class StripeDouble {
  readonly secretKey = `sk_test_double_${randomBytes(8).toString('hex')}`;
  readonly webhookSecret = `whsec_double_${randomBytes(16).toString('hex')}`;
  readonly intents = new Map<string, DoublePaymentIntent>();
  readonly charges = new Map<string, Charge>();
  /** Every API call as "METHOD path", in arrival order. */
  readonly calls: string[] = [];
  readonly captures = new Map<string, number>();
  readonly refunds = new Map<string, number>();
  /** Answer the next N calls whose "METHOD path" matches with a 500 (Stripe having a bad moment). */
  private failures: { match: RegExp; left: number }[] = [];
  private readonly idempotency = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Environment for a server that should use this double as Stripe. */
  env(): Record<string, string> {
    return { STRIPE_SECRET_KEY: this.secretKey, STRIPE_WEBHOOK_SECRET: this.webhookSecret, STRIPE_API_BASE: this.url };
  }

  failNext(match: RegExp, times = 1): void {
    this.failures.push({ match, left: times });
  }

  get createdCount(): number {
    return this.calls.filter((c) => c === 'POST /v1/payment_intents').length;
  }

  intent(id: string): DoublePaymentIntent {
    const pi = this.intents.get(id);
    if (!pi) throw new Error(`no PaymentIntent ${id} in the double`);
    return pi;
  }

  // ---- what the customer's phone does -------------------------------------------------------

  authorize(id: string): DoublePaymentIntent {
    const pi = this.intent(id);
    if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(pi.status))
      throw new Error(`cannot authorize a ${pi.status} PaymentIntent`);
    const charge: Charge = {
      id: `ch_${randomBytes(8).toString('hex')}`,
      object: 'charge',
      amount: pi.amount,
      amount_captured: 0,
      amount_refunded: 0,
      refunded: false,
      payment_intent: pi.id,
      captured: false,
    };
    this.charges.set(charge.id, charge);
    Object.assign(pi, { status: 'requires_capture', amount_capturable: pi.amount, latest_charge: charge.id, last_payment_error: null });
    return structuredClone(pi);
  }

  decline(id: string): DoublePaymentIntent {
    const pi = this.intent(id);
    Object.assign(pi, {
      status: 'requires_payment_method',
      last_payment_error: { code: 'card_declined', message: 'Your card was declined.' },
    });
    return structuredClone(pi);
  }

  /** Stripe (or an admin in the dashboard) cancelling the intent behind our back. */
  cancelExternally(id: string): DoublePaymentIntent {
    const pi = this.intent(id);
    Object.assign(pi, { status: 'canceled', amount_capturable: 0 });
    return structuredClone(pi);
  }

  // ---- what Stripe's webhook sender does ----------------------------------------------------

  /** An event carrying a snapshot of the intent as it is now (or as given). */
  event(type: string, snapshot: DoublePaymentIntent | string): Stripe.Event {
    const object = typeof snapshot === 'string' ? structuredClone(this.intent(snapshot)) : snapshot;
    return {
      id: `evt_${randomBytes(10).toString('hex')}`,
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object },
    } as unknown as Stripe.Event;
  }

  signature(payload: string, opts: { timestamp?: number; secret?: string } = {}): string {
    return Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: opts.secret ?? this.webhookSecret,
      ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
    });
  }

  /** POSTs a signed event to `baseUrl`/api/webhooks/stripe and returns the HTTP status and body. */
  async deliver(
    baseUrl: string,
    event: Stripe.Event,
    opts: { timestamp?: number; secret?: string; signature?: string } = {},
  ): Promise<{ status: number; body: unknown }> {
    const payload = JSON.stringify(event);
    const res = await fetch(`${baseUrl}/api/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': opts.signature ?? this.signature(payload, opts) },
      body: payload,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  // ---- the API -----------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://double');
    const line = `${req.method} ${url.pathname}`;
    this.calls.push(line);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomBytes(6).toString('hex')}` });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
      return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const failure = this.failures.find((f) => f.left > 0 && f.match.test(line));
    if (failure) {
      failure.left--;
      return send(500, { error: { type: 'api_error', message: 'Something went wrong on Stripe’s end (double).' } });
    }
    const form = req.method === 'GET' ? parseForm(url.search.slice(1)) : parseForm(text);
    const key = req.headers['idempotency-key'];
    const fingerprint = createHash('sha256').update(`${line}\n${text}`).digest('hex');
    if (typeof key === 'string' && req.method === 'POST') {
      const seen = this.idempotency.get(key);
      if (seen) {
        if (seen.fingerprint !== fingerprint) {
          return send(400, {
            error: {
              type: 'idempotency_error',
              message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.',
            },
          });
        }
        res.setHeader('idempotent-replayed', 'true');
        return send(seen.status, seen.body);
      }
    }
    let status = 200;
    let body: unknown;
    try {
      body = this.handle(req.method ?? 'GET', url.pathname, form);
    } catch (err) {
      if (!(err instanceof StripeFailure)) throw err;
      status = err.status;
      body = { error: { type: err.type, code: err.code, message: err.message } };
    }
    if (typeof key === 'string' && req.method === 'POST') this.idempotency.set(key, { fingerprint, status, body });
    send(status, body);
  }

  private handle(method: string, path: string, form: Form): unknown {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/payment_intents') return this.create(form);
    if (method === 'GET' && (m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path))) return this.view(this.find(m[1]!), listOf(form.expand));
    if (method === 'POST' && (m = /^\/v1\/payment_intents\/([^/]+)\/capture$/.exec(path))) return this.capture(this.find(m[1]!));
    if (method === 'POST' && (m = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(path))) return this.cancel(this.find(m[1]!));
    if (method === 'POST' && path === '/v1/refunds') return this.refund(form);
    throw new StripeFailure(404, 'invalid_request_error', 'resource_missing', `Unrecognized request URL (${method}: ${path}).`);
  }

  private find(id: string): DoublePaymentIntent {
    const pi = this.intents.get(id);
    if (!pi) throw new StripeFailure(404, 'invalid_request_error', 'resource_missing', `No such payment_intent: '${id}'`);
    return pi;
  }

  private view(pi: DoublePaymentIntent, expand: string[] = []): unknown {
    const out: Record<string, unknown> = { ...structuredClone(pi) };
    if (expand.includes('latest_charge') && pi.latest_charge) out.latest_charge = structuredClone(this.charges.get(pi.latest_charge));
    return out;
  }

  private create(form: Form): unknown {
    const amount = Number(form.amount);
    if (!Number.isInteger(amount) || amount < 50)
      throw new StripeFailure(400, 'invalid_request_error', 'amount_too_small', 'Amount must be at least $0.50 usd');
    const id = `pi_${randomBytes(12).toString('hex')}`;
    const pi: DoublePaymentIntent = {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      currency: String(form.currency ?? 'usd'),
      capture_method: String(form.capture_method ?? 'automatic'),
      client_secret: `${id}_secret_${randomBytes(8).toString('hex')}`,
      status: 'requires_payment_method',
      metadata: (form.metadata as Record<string, string> | undefined) ?? {},
      description: typeof form.description === 'string' ? form.description : null,
      created: Math.floor(Date.now() / 1000),
      latest_charge: null,
      last_payment_error: null,
      livemode: false,
    };
    this.intents.set(id, pi);
    return this.view(pi);
  }

  private capture(pi: DoublePaymentIntent): unknown {
    if (pi.status !== 'requires_capture') {
      throw new StripeFailure(
        400,
        'invalid_request_error',
        'payment_intent_unexpected_state',
        `This PaymentIntent could not be captured because it has a status of ${pi.status}.`,
      );
    }
    this.captures.set(pi.id, (this.captures.get(pi.id) ?? 0) + 1);
    const charge = pi.latest_charge ? this.charges.get(pi.latest_charge) : undefined;
    if (charge) Object.assign(charge, { captured: true, amount_captured: pi.amount_capturable });
    Object.assign(pi, { status: 'succeeded', amount_received: pi.amount_capturable, amount_capturable: 0 });
    return this.view(pi);
  }

  private cancel(pi: DoublePaymentIntent): unknown {
    if (pi.status === 'succeeded' || pi.status === 'canceled' || pi.status === 'processing') {
      throw new StripeFailure(
        400,
        'invalid_request_error',
        'payment_intent_unexpected_state',
        `You cannot cancel this PaymentIntent because it has a status of ${pi.status}.`,
      );
    }
    Object.assign(pi, { status: 'canceled', amount_capturable: 0 });
    return this.view(pi);
  }

  private refund(form: Form): unknown {
    const pi = this.find(String(form.payment_intent));
    const charge = pi.latest_charge ? this.charges.get(pi.latest_charge) : undefined;
    if (pi.status !== 'succeeded' || !charge)
      throw new StripeFailure(400, 'invalid_request_error', 'charge_not_captured', 'This PaymentIntent has no captured charge to refund.');
    if (charge.refunded)
      throw new StripeFailure(400, 'invalid_request_error', 'charge_already_refunded', `Charge ${charge.id} has already been refunded.`);
    Object.assign(charge, { refunded: true, amount_refunded: charge.amount_captured });
    this.refunds.set(pi.id, (this.refunds.get(pi.id) ?? 0) + 1);
    return {
      id: `re_${randomBytes(8).toString('hex')}`,
      object: 'refund',
      amount: charge.amount_captured,
      charge: charge.id,
      payment_intent: pi.id,
      status: 'succeeded',
    };
  }
}

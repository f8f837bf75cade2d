import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { CreateOrderResponse } from '../../protocol/http/orders';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { makeFriends } from '../helpers/users';
import { newKey } from '../orders/fixtures';
import { launchChromium, newPage, screenshot } from './browser';

let ts: TestServer;
let browser: Browser;
let page: Page;
let pageErrors: string[];
let venue: { id: string; slug: string; name: string; menuItems: { id: string; name: string }[] };
let buyer: { token: string; id: string };
let recipient: { token: string; id: string };

beforeAll(async () => {
  browser = await launchChromium();
  // Real PostgreSQL/Redis/DynamoDB Local; no Stripe keys, so payments are the simulated ones with dev routes.
  ts = await startTestServer({}, { label: 'web_tablet' });
  const b = await signIn(ts, uniqueEmail('buyer'), 'Bea Buyer');
  const r = await signIn(ts, uniqueEmail('recipient'), 'Rita Recipient');
  buyer = { token: b.accessToken, id: b.user.id };
  recipient = { token: r.accessToken, id: r.user.id };
  await makeFriends(ts.server.ctx, buyer.id, recipient.id);
  venue = await ts.server.ctx.db.prisma.venue.findFirstOrThrow({
    where: { slug: 'the-velvet-lounge' },
    select: { id: true, slug: true, name: true, menuItems: { select: { id: true, name: true }, orderBy: { name: 'asc' }, take: 1 } },
  });
  ({ page, errors: pageErrors } = await newPage(browser, { width: 1180, height: 820 }));
});
afterAll(async () => {
  await browser?.close();
  await ts?.close();
});

/** The buyer orders a drink and the simulated card authorizes it (the order becomes PAID). */
async function paidOrder(message?: string): Promise<string> {
  const created = await api(ts, buyer.token).post(
    '/api/orders',
    {
      recipientId: recipient.id,
      venueId: venue.id,
      paymentMethod: 'APPLE_PAY',
      items: [{ menuItemId: venue.menuItems[0]!.id, quantity: 2 }],
      ...(message ? { message } : {}),
    },
    { 'Idempotency-Key': newKey() },
  );
  expect(created.status).toBe(201);
  const { order, payment } = created.body as CreateOrderResponse;
  const paid = await api(ts).post(`/api/dev/payments/${payment.paymentIntentId}/succeed`);
  expect(paid.status).toBe(200);
  return order.id;
}

async function accept(orderId: string): Promise<string> {
  const res = await api(ts, recipient.token).post(`/api/orders/${orderId}/accept`);
  expect(res.status).toBe(200);
  return res.body.qrCode as string;
}

const orderRow = (orderId: string, status?: string) =>
  `#orders li.order[data-order-id="${orderId}"]${status ? `[data-status="${status}"]` : ''}`;

async function scan(code: string): Promise<void> {
  await page.fill('#code', code);
  await page.press('#code', 'Enter');
}

describe('the bartender tablet', () => {
  it('signs a venue’s bartender in with the dev sign-in and joins the staff room', async () => {
    await page.goto(`${ts.url}/tablet`);
    // Dev mode lists every venue's staff e-mail; one tap fills the form.
    const account = `#staff-accounts .staff-account[data-email="staff+${venue.slug}@treatme.dev"]`;
    await page.waitForSelector(account);
    expect(await page.$$eval('#staff-accounts .staff-account', (els) => els.length)).toBe(12);
    expect(await page.textContent(account)).toContain(venue.name);
    await page.click(account);
    expect(await page.inputValue('#email')).toBe(`staff+${venue.slug}@treatme.dev`);
    await page.click('#signin-submit');
    await page.waitForSelector('#work:not([hidden])');
    await page.waitForSelector('#conn[data-state="live"]');
    // Joined the staff room and read the open orders (an empty list has no size, hence 'attached').
    await page.waitForSelector('#orders[data-synced-at]', { state: 'attached' });
    // The header names the venue once (the demo staff account is called "<venue> Bar").
    expect(await page.textContent('#venue-name')).toBe(venue.name);
  });

  it('receives a paid order live, redeems it, and refuses a second scan of the same code', async () => {
    const orderId = await paidOrder('Happy birthday, <b>Rita</b>!');
    await page.waitForSelector(orderRow(orderId, 'PAID'), { timeout: 3_000 });
    // The buyer's message is on the card, as text (markup in it is not rendered).
    expect(await page.textContent(`${orderRow(orderId)} .order-message`)).toBe('Happy birthday, <b>Rita</b>!');
    expect(await page.$(`${orderRow(orderId)} .order-message b`)).toBeNull();
    const code = await accept(orderId);
    await page.waitForSelector(orderRow(orderId, 'ACCEPTED'), { timeout: 3_000 });
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('Rita Recipient'), orderRow(orderId));
    await screenshot(page, 'web-tablet-orders');

    await scan(code);
    await page.waitForSelector('#result[data-kind="held"]:not([hidden])');
    expect(await page.textContent('#result-title')).toBe('Serve');
    expect(await page.textContent('#result-items')).toContain(`2 × ${venue.menuItems[0]!.name}`);
    expect(await page.textContent('#result-who')).toContain('for Rita Recipient');
    expect(await page.textContent('#result-who')).toContain('“Happy birthday, <b>Rita</b>!”');
    await screenshot(page, 'web-tablet-serve');

    await page.click('#result-confirm');
    await page.waitForSelector('#result[data-kind="ok"]:not([hidden])');
    expect(await page.textContent('#result-title')).toBe('Redeemed');
    await page.waitForSelector(orderRow(orderId), { state: 'detached' });
    const row = await ts.server.ctx.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(row.status).toBe('REDEEMED');
    await page.click('#result-dismiss');

    await scan(code);
    await page.waitForSelector('#result[data-kind="refused"]:not([hidden])');
    expect(await page.textContent('#result-title')).toBe('Already redeemed');
    expect(await page.textContent('#result-detail')).toMatch(/^at \d\d:\d\d by .+ Bar$/);
    const red = await page.$eval('#result', (el) => getComputedStyle(el).backgroundColor);
    expect(red).toBe('rgb(217, 45, 32)');
    await screenshot(page, 'web-tablet-refused');
    await page.click('#result-dismiss');
    expect(pageErrors).toEqual([]);
  });

  it('catches up on orders paid while it was offline', async () => {
    await page.evaluate(() =>
      (window as unknown as { treatmeTablet: { socket: { disconnect(): void } } }).treatmeTablet.socket.disconnect(),
    );
    await page.waitForSelector('#conn[data-state="reconnecting"]');
    const missed = await paidOrder();
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.$(orderRow(missed))).toBeNull();
    await page.evaluate(() => (window as unknown as { treatmeTablet: { socket: { connect(): void } } }).treatmeTablet.socket.connect());
    await page.waitForSelector('#conn[data-state="back"]');
    await page.waitForSelector(orderRow(missed, 'PAID'), { timeout: 3_000 });
    expect(pageErrors).toEqual([]);
  });

  it('refuses a code that is not one of ours, in red', async () => {
    await scan('hello');
    await page.waitForSelector('#result[data-kind="refused"]:not([hidden])');
    expect(await page.textContent('#result-title')).toBe('Not a TreatMe code');
    await page.click('#result-dismiss');
    await scan('A'.repeat(43));
    await page.waitForFunction(() => document.getElementById('result-title')?.textContent === 'Unknown code');
  });
});

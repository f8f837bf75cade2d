import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, uniqueEmail } from '../helpers/auth';
import { SmtpDouble, TwilioDouble } from '../helpers/code-doubles';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
let smtp: SmtpDouble;
let twilio: TwilioDouble;
let seq = 0;
const phone = (prefix = '+1415555') => `${prefix}${String(1000 + (++seq % 9000)).padStart(4, '0')}`;

beforeAll(async () => {
  smtp = await new SmtpDouble().start();
  twilio = await new TwilioDouble().start();
  ts = await startTestServer(
    {
      CODE_SENDER_EMAIL: 'smtp',
      CODE_SENDER_SMS: 'twilio',
      SMTP_URL: smtp.url,
      CODE_FROM_EMAIL: 'TreatMe <codes@treatme.test>',
      ...twilio.env(),
      CODE_SEND_TIMEOUT_MS: '500',
      // Production shape: the code only reaches the user through the provider.
      DEV_MODE: 'false',
      RATE_LIMIT_AUTH_PER_MINUTE: '10000',
    },
    { label: 'auth_code_delivery' },
  );
});
afterAll(async () => {
  await ts?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const request = (body: Record<string, string>) => api(ts).post('/api/auth/code/request', body);
const verify = (body: Record<string, string>) => api(ts).post('/api/auth/code/verify', body);

describe('e-mail codes over SMTP', () => {
  it('sends the code from CODE_FROM_EMAIL and it signs in', async () => {
    const email = uniqueEmail('smtp');
    const res = await request({ channel: 'email', destination: email });
    expect(res.status).toBe(202);
    expect(res.body.devCode).toBeUndefined();
    const mail = smtp.mails.find((m) => m.to.includes(email));
    expect(mail?.from).toBe('codes@treatme.test');
    const code = smtp.codeFor(email);
    expect(code).toMatch(/^\d{6}$/);
    const session = await verify({ channel: 'email', destination: email, code: code! });
    expect(session.status).toBe(200);
    expect(session.body.user).toMatchObject({ email, emailVerified: true });
  });

  it('a temporary SMTP failure answers 503 CODE_NOT_SENT, leaves no valid code, and may be retried at once', async () => {
    const email = uniqueEmail('tempfail');
    const res = await request({ channel: 'email', destination: email });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'CODE_NOT_SENT', provider: 'smtp', retryable: true } });
    // Nothing is pending for that address, so no guess can work.
    const guess = await verify({ channel: 'email', destination: email, code: '123456' });
    expect(guess.status).toBe(401);
    expect(guess.body.error.message).toMatch(/No valid code/);
    // The resend wait (30 s) was not spent by the failed send.
    const again = await request({ channel: 'email', destination: email });
    expect(again.status).toBe(503);
    expect(again.body.error.details.reason).toBe('CODE_NOT_SENT');
  });

  it('a mailbox the server refuses (550) is a 400 that says so, not retryable', async () => {
    const res = await request({ channel: 'email', destination: uniqueEmail('nobody') });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION', details: { reason: 'CODE_NOT_SENT', retryable: false } });
  });

  it('an SMTP server that stops answering fails the request within the timeout and blocks nothing else', async () => {
    const started = Date.now();
    const [slow, other] = await Promise.all([
      request({ channel: 'email', destination: uniqueEmail('slow') }),
      (async () => {
        await new Promise((r) => setTimeout(r, 50));
        const t = Date.now();
        const r = await api(ts).get('/health');
        return { status: r.status, ms: Date.now() - t };
      })(),
    ]);
    expect(slow.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(other.status).toBe(200);
    expect(other.ms).toBeLessThan(400);
  });
});

describe('SMS codes through Twilio', () => {
  it('posts to Messages.json with basic auth and the code signs in', async () => {
    const to = phone();
    const res = await request({ channel: 'phone', destination: to });
    expect(res.status).toBe(202);
    const sms = twilio.messages.find((m) => m.To === to);
    expect(sms).toMatchObject({ From: twilio.from, MessagingServiceSid: null });
    const session = await verify({ channel: 'phone', destination: to, code: twilio.codeFor(to)! });
    expect(session.status).toBe(200);
    expect(session.body.user).toMatchObject({ phone: to, phoneVerified: true });
  });

  it('Twilio throttling (429) or trouble (500) answers 503 CODE_NOT_SENT and the retry is not held up', async () => {
    for (const to of [phone('+1500555042'), phone('+1500555050')]) {
      const res = await request({ channel: 'phone', destination: to });
      expect(res.status).toBe(503);
      expect(res.body.error.details).toMatchObject({ reason: 'CODE_NOT_SENT', provider: 'twilio', retryable: true });
      expect((await request({ channel: 'phone', destination: to })).status).toBe(503);
    }
  });

  it('an invalid number (21211) is a 400, not retryable', async () => {
    const res = await request({ channel: 'phone', destination: '+15005550001' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toMatchObject({ reason: 'CODE_NOT_SENT', provider: 'twilio', retryable: false });
  });

  it('a Twilio that never answers fails within CODE_SEND_TIMEOUT_MS', async () => {
    const started = Date.now();
    const res = await request({ channel: 'phone', destination: phone('+1500555099') });
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/**
 * A local SMTP server (the `smtp-server` package). Recipients steer it: `tempfail…@` gets 451 (try
 * later), `nobody…@` gets 550 (no such mailbox), `slow…@` never gets an answer to its data.
 */
export class SmtpDouble {
  readonly mails: Mail[] = [];
  private server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, cb) => {
        const err = (msg: string, code: number) => Object.assign(new Error(msg), { responseCode: code });
        if (address.address.startsWith('tempfail')) return cb(err('Try again later', 451));
        if (address.address.startsWith('nobody')) return cb(err('No such user here', 550));
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const to = session.envelope.rcptTo.map((r) => r.address);
          if (to.some((a) => a.startsWith('slow'))) return; // never answers
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to,
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          cb();
        });
      },
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  codeFor(address: string): string | undefined {
    const mail = [...this.mails].reverse().find((m) => m.to.includes(address));
    return mail ? /\b(\d{6})\b/.exec(mail.raw)?.[1] : undefined;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export interface Sms {
  To: string;
  From: string | null;
  MessagingServiceSid: string | null;
  Body: string;
}

/**
 * Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`): basic auth with the account
 * SID and auth token, form-encoded body, 201 with a message resource, or Twilio's error JSON. Numbers
 * steer it: +15005550001 is invalid (21211), +1500555042x are throttled (429, 20429), +1500555050x fail
 * with 500, +1500555099x never get an answer.
 */
export class TwilioDouble {
  readonly accountSid = 'AC0123456789abcdef0123456789abcdef';
  readonly authToken = 'twilio-auth-token-0123456789';
  readonly from = '+15005550006';
  readonly messages: Sms[] = [];
  private server: Server | undefined;
  private hung: ServerResponse[] = [];
  base = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const json = (status: number, obj: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
        const error = (status: number, code: number, message: string) =>
          json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
        if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${this.accountSid}/Messages.json`)
          return error(404, 20404, 'The requested resource was not found');
        const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
        if (req.headers.authorization !== expected) return error(401, 20003, 'Authenticate');
        if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
          return error(400, 20001, 'Bad content type');
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const sms: Sms = {
          To: form.get('To') ?? '',
          From: form.get('From'),
          MessagingServiceSid: form.get('MessagingServiceSid'),
          Body: form.get('Body') ?? '',
        };
        if (!sms.To) return error(400, 21604, "A 'To' phone number is required.");
        if (!sms.From && !sms.MessagingServiceSid) return error(400, 21603, "A 'From' phone number is required.");
        if (sms.To === '+15005550001') return error(400, 21211, `The 'To' number ${sms.To} is not a valid phone number.`);
        if (sms.To.startsWith('+1500555042')) return error(429, 20429, 'Too Many Requests');
        if (sms.To.startsWith('+1500555050')) return error(500, 20500, 'Internal Server Error');
        if (sms.To.startsWith('+1500555099')) {
          this.hung.push(res);
          return;
        }
        this.messages.push(sms);
        json(201, {
          sid: `SM${String(this.messages.length).padStart(32, '0')}`,
          account_sid: this.accountSid,
          to: sms.To,
          from: sms.From,
          messaging_service_sid: sms.MessagingServiceSid,
          body: sms.Body,
          status: 'queued',
          num_segments: '1',
          direction: 'outbound-api',
          api_version: '2010-04-01',
          date_created: new Date().toUTCString(),
          error_code: null,
          error_message: null,
          uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/SM${this.messages.length}.json`,
        });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  env(): Record<string, string> {
    return { TWILIO_ACCOUNT_SID: this.accountSid, TWILIO_AUTH_TOKEN: this.authToken, TWILIO_FROM: this.from, TWILIO_API_BASE: this.base };
  }

  codeFor(to: string): string | undefined {
    const sms = [...this.messages].reverse().find((m) => m.To === to);
    return sms ? /\b(\d{6})\b/.exec(sms.Body)?.[1] : undefined;
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

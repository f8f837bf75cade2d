import { z } from 'zod';
import { CodeDeliveryError, type CodeMessage, type CodeSender } from './code-sender';

const TwilioError = z.object({ code: z.number().optional(), message: z.string().optional() }).loose();

// Twilio errors that are about the number itself (invalid, unreachable, not mobile, opted out).
const PERMANENT = new Set([21211, 21214, 21408, 21610, 21612, 21614]);

/**
 * SMS codes through Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded,
 * basic auth). The REST call is used directly rather than the `twilio` SDK: it is one request, and the
 * SDK would add a large dependency for it.
 */
export class TwilioCodeSender implements CodeSender {
  constructor(private readonly s: { accountSid: string; authToken: string; from: string; apiBase: string; timeoutMs: number }) {}

  async send(msg: CodeMessage): Promise<void> {
    const form = new URLSearchParams({ To: msg.destination, Body: `Your TreatMe code is ${msg.code}` });
    form.set(this.s.from.startsWith('MG') ? 'MessagingServiceSid' : 'From', this.s.from);
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.s.apiBase}/2010-04-01/Accounts/${encodeURIComponent(this.s.accountSid)}/Messages.json`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${this.s.accountSid}:${this.s.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form,
        signal: AbortSignal.timeout(this.s.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new CodeDeliveryError('twilio', 'Twilio did not answer', true, undefined, { cause: err });
    }
    if (res.ok) return;
    let code: number | undefined;
    try {
      code = TwilioError.parse(JSON.parse(text)).code;
    } catch {
      // not Twilio's error shape: report the status alone
    }
    throw new CodeDeliveryError(
      'twilio',
      `Twilio refused the SMS (HTTP ${res.status}${code ? `, error ${code}` : ''})`,
      !(code !== undefined && PERMANENT.has(code)),
      code ?? res.status,
    );
  }
}

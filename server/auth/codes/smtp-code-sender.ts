import nodemailer, { type Transporter } from 'nodemailer';
import { CodeDeliveryError, type CodeMessage, type CodeSender } from './code-sender';

/**
 * E-mail codes through any SMTP server (nodemailer, pooled connections). A refusal or a server that
 * does not answer in time surfaces as CodeDeliveryError, so the caller can leave the code unsent.
 */
export class SmtpCodeSender implements CodeSender {
  private readonly transport: Transporter;

  constructor(private readonly s: { url: string; from: string; timeoutMs: number }) {
    this.transport = nodemailer.createTransport({
      url: s.url,
      pool: true,
      maxConnections: 4,
      connectionTimeout: s.timeoutMs,
      greetingTimeout: s.timeoutMs,
      socketTimeout: s.timeoutMs,
    });
  }

  async send(msg: CodeMessage): Promise<void> {
    const minutes = Math.max(1, Math.round(msg.expiresInSeconds / 60));
    try {
      await this.transport.sendMail({
        from: this.s.from,
        to: msg.destination,
        subject: `${msg.code} is your TreatMe code`,
        text: `Your TreatMe sign-in code is ${msg.code}. It expires in ${minutes} minute${minutes === 1 ? '' : 's'}.\n\nIf you did not ask for it, ignore this e-mail.`,
      });
    } catch (err) {
      const responseCode = (err as { responseCode?: number }).responseCode;
      // 5xx to the recipient (mailbox unknown, refused) will not change on a retry; anything else may.
      const permanent = responseCode !== undefined && responseCode >= 550 && responseCode < 560;
      throw new CodeDeliveryError(
        'smtp',
        `SMTP did not accept the code e-mail${responseCode ? ` (${responseCode})` : ''}`,
        !permanent,
        responseCode,
        { cause: err },
      );
    }
  }

  close(): void {
    this.transport.close();
  }
}

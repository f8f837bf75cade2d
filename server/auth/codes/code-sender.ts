import type { CodeChannel } from '../../../protocol/http/auth';
import { codeSenders, type Config } from '../../config/config';
import type { Logger } from '../../observability/logger';
import { SmtpCodeSender } from './smtp-code-sender';
import { TwilioCodeSender } from './twilio-code-sender';

export interface CodeMessage {
  channel: CodeChannel;
  destination: string;
  code: string;
  expiresInSeconds: number;
}

/** Delivers a one-time code by email or SMS. A real provider implements this and is picked in `createCodeSender`. */
export interface CodeSender {
  send(msg: CodeMessage): Promise<void>;
}

/**
 * The provider did not take the code. `retryable` is false when the destination itself was refused
 * (a number the provider says is not valid): the same request would fail again.
 */
export class CodeDeliveryError extends Error {
  constructor(
    readonly provider: 'smtp' | 'twilio',
    message: string,
    readonly retryable: boolean,
    readonly providerCode?: string | number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CodeDeliveryError';
  }
}

/**
 * Writes the code to the log instead of sending it: for development and demos only. Operators must
 * not run this in production with real users, since anyone reading logs could sign in as them.
 */
export class LogCodeSender implements CodeSender {
  constructor(private readonly logger: Logger) {}

  async send(msg: CodeMessage): Promise<void> {
    // `oneTimeCode`, not `code`: the logger redacts `code` fields, and this sender exists to show it.
    this.logger.info(
      { channel: msg.channel, destination: msg.destination, oneTimeCode: msg.code, expiresInSeconds: msg.expiresInSeconds },
      'one-time code (log sender)',
    );
  }
}

/** E-mail and SMS each go through the sender their configuration picks. */
class ChannelCodeSender implements CodeSender {
  constructor(private readonly byChannel: Record<CodeChannel, CodeSender>) {}

  send(msg: CodeMessage): Promise<void> {
    return this.byChannel[msg.channel].send(msg);
  }
}

export function createCodeSender(config: Config, logger: Logger): CodeSender & { close(): void } {
  const kinds = codeSenders(config);
  const log = new LogCodeSender(logger);
  const smtp =
    kinds.email === 'smtp'
      ? new SmtpCodeSender({ url: config.SMTP_URL!, from: config.CODE_FROM_EMAIL!, timeoutMs: config.CODE_SEND_TIMEOUT_MS })
      : undefined;
  const twilio =
    kinds.phone === 'twilio'
      ? new TwilioCodeSender({
          accountSid: config.TWILIO_ACCOUNT_SID!,
          authToken: config.TWILIO_AUTH_TOKEN!,
          from: config.TWILIO_FROM!,
          apiBase: config.TWILIO_API_BASE,
          timeoutMs: config.CODE_SEND_TIMEOUT_MS,
        })
      : undefined;
  const sender = new ChannelCodeSender({ email: smtp ?? log, phone: twilio ?? log });
  return { send: (m) => sender.send(m), close: () => smtp?.close() };
}

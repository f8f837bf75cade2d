import type { CodeChannel } from '../../../protocol/http/auth';
import { codeSenders, type Config } from '../../config/config';
import type { Logger } from '../../observability/logger';
import { LogCodeSender, type CodeMessage, type CodeSender } from './code-sender';
import { SmtpCodeSender } from './smtp-code-sender';
import { TwilioCodeSender } from './twilio-code-sender';

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

import type { CodeChannel } from '../../../protocol/http/auth';
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

/** Which provider carries each channel's codes; a channel without one has its codes logged. */
export interface CodeSenderSettings {
  smtp?: { url: string; from: string; timeoutMs: number };
  twilio?: { accountSid: string; authToken: string; from: string; apiBase: string; timeoutMs: number };
}

export function createCodeSender(settings: CodeSenderSettings, logger: Logger): CodeSender & { close(): void } {
  const log = new LogCodeSender(logger);
  const smtp = settings.smtp ? new SmtpCodeSender(settings.smtp) : undefined;
  const twilio = settings.twilio ? new TwilioCodeSender(settings.twilio) : undefined;
  const sender = new ChannelCodeSender({ email: smtp ?? log, phone: twilio ?? log });
  return { send: (m) => sender.send(m), close: () => smtp?.close() };
}

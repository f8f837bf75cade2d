import type { CodeChannel } from '../../../protocol/http/auth';
import type { Logger } from '../../observability/logger';

/** Delivers a one-time code by email or SMS. A real provider implements this and is picked in `createCodeSender`. */
export interface CodeSender {
  send(msg: { channel: CodeChannel; destination: string; code: string; expiresInSeconds: number }): Promise<void>;
}

/**
 * Writes the code to the log instead of sending it: for development and demos only. Operators must
 * not run this in production with real users, since anyone reading logs could sign in as them.
 */
export class LogCodeSender implements CodeSender {
  constructor(private readonly logger: Logger) {}

  async send(msg: { channel: CodeChannel; destination: string; code: string; expiresInSeconds: number }): Promise<void> {
    // `oneTimeCode`, not `code`: the logger redacts `code` fields, and this sender exists to show it.
    this.logger.info({ channel: msg.channel, destination: msg.destination, oneTimeCode: msg.code, expiresInSeconds: msg.expiresInSeconds }, 'one-time code (log sender)');
  }
}

export function createCodeSender(kind: 'log', logger: Logger): CodeSender {
  switch (kind) {
    case 'log':
      return new LogCodeSender(logger);
  }
}

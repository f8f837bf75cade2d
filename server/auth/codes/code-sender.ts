import type { CodeChannel } from '../../../protocol/http/auth';
import type { Logger } from '../../observability/logger';

export interface CodeMessage {
  channel: CodeChannel;
  destination: string;
  code: string;
  expiresInSeconds: number;
}

/** Delivers a one-time code by email or SMS. A real provider implements this and is picked in `createCodeSender` (build-code-sender.ts). */
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

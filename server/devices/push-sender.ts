import type { Logger } from '../observability/logger';
import type { DeviceDirectory } from './device-directory';
import type { PushKind } from './push-messages';

export interface PushNotification {
  /** English text, used as is when `kind` is unset. */
  title: string;
  body: string;
  /** A known message: rendered in each device's language instead of `title`/`body`. */
  kind?: PushKind;
  /** Delivered to the app with the notification (strings only, as APNs and FCM both accept them). */
  data?: Record<string, string>;
  /** Pushes with one id replace each other on the device (the order id: its latest state wins). */
  collapseId?: string;
}

/**
 * Notifies every active, push-enabled device of a user. Fire-and-forget from the caller's view:
 * delivery failures are logged by the sender, never thrown into the request that caused them.
 */
export interface PushSender {
  send(userId: string, notification: PushNotification): Promise<{ devices: number }>;
}

export interface SentPush {
  userId: string;
  token: string;
  platform: string;
  notification: PushNotification;
  at: number;
}

/** Logs instead of calling APNs/FCM; keeps the last few sends so dev tools and tests can see them. */
export class LogPushSender implements PushSender {
  readonly recent: SentPush[] = [];

  constructor(
    private readonly devices: DeviceDirectory,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly keep = 200,
  ) {}

  async send(userId: string, notification: PushNotification): Promise<{ devices: number }> {
    try {
      const now = this.now();
      const targets = (await this.devices.forUser(userId, now)).filter((d) => d.pushEnabled);
      for (const d of targets) {
        this.logger.info(
          { userId, platform: d.platform, token: `${d.token.slice(0, 8)}…`, title: notification.title },
          'push (log sender)',
        );
        this.recent.push({ userId, token: d.token, platform: d.platform, notification, at: now });
      }
      if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
      return { devices: targets.length };
    } catch (err) {
      this.logger.warn({ err, userId }, 'push failed');
      return { devices: 0 };
    }
  }
}

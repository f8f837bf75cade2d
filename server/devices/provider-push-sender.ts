import { Counter, Gauge } from 'prom-client';
import type { AppContext } from '../context';
import type { Logger } from '../observability/logger';
import type { DeviceDirectory, DeviceRecord } from './device-directory';
import { pushText } from './push-messages';
import type { DeliveryResult, ProviderName, PushProvider, RenderedPush } from './push-provider';
import { DeliveryQueue, type QueueSettings } from './push-queue';
import type { PushNotification, PushSender } from './push-sender';

export interface PushMetrics {
  deliveries: Counter<'provider' | 'outcome'>;
  queued: Gauge;
}

export function createPushMetrics(ctx: Pick<AppContext, 'metrics'>): PushMetrics {
  return {
    deliveries: new Counter({
      name: 'treatme_push_deliveries_total',
      help: 'Push deliveries by provider and final outcome (sent, dead, failed, gave_up, dropped, unconfigured)',
      labelNames: ['provider', 'outcome'] as const,
      registers: [ctx.metrics.registry],
    }),
    queued: new Gauge({
      name: 'treatme_push_queue_size',
      help: 'Pushes queued, waiting for a retry or in flight',
      registers: [ctx.metrics.registry],
    }),
  };
}

const PLATFORM_PROVIDER: Record<DeviceRecord['platform'], ProviderName | undefined> = { IOS: 'apns', ANDROID: 'fcm', WEB: undefined };

/** The device's language, falling back to the notification's own title and body when it is not a known kind. */
export function renderFor(device: Pick<DeviceRecord, 'locale'>, n: PushNotification): RenderedPush {
  const text = n.kind ? pushText(n.kind, device.locale) : { title: n.title, body: n.body };
  return { ...text, data: n.data ?? {}, ...(n.collapseId ? { collapseId: n.collapseId } : {}) };
}

/**
 * Sends through APNs (iOS) and FCM (Android) behind a bounded retry queue. `send` only reads the
 * user's devices and enqueues; delivery happens afterwards. A token the provider reports dead is
 * removed from PostgreSQL and the device directory, so no later push tries it again.
 */
export class ProviderPushSender implements PushSender {
  readonly queue: DeliveryQueue;

  constructor(
    private readonly deps: {
      devices: DeviceDirectory;
      providers: Partial<Record<ProviderName, PushProvider>>;
      removeDead: (userId: string, token: string) => Promise<void>;
      logger: Logger;
      metrics: PushMetrics;
      now: () => number;
      queue: QueueSettings;
    },
  ) {
    this.queue = new DeliveryQueue(deps.queue);
  }

  async send(userId: string, notification: PushNotification): Promise<{ devices: number }> {
    const { logger, metrics } = this.deps;
    try {
      const targets = (await this.deps.devices.forUser(userId, this.deps.now())).filter((d) => d.pushEnabled);
      for (const d of targets) this.deliver(d, notification);
      metrics.queued.set(this.queue.size);
      return { devices: targets.length };
    } catch (err) {
      logger.warn({ err, userId }, 'push failed: could not read the devices');
      return { devices: 0 };
    }
  }

  private deliver(d: DeviceRecord, n: PushNotification): void {
    const { logger, metrics } = this.deps;
    const name = PLATFORM_PROVIDER[d.platform];
    const provider = name ? this.deps.providers[name] : undefined;
    const tokenHint = `${d.token.slice(0, 8)}…`;
    if (!provider) {
      metrics.deliveries.inc({ provider: name ?? d.platform.toLowerCase(), outcome: 'unconfigured' });
      logger.info(
        { userId: d.userId, platform: d.platform, token: tokenHint, title: n.title },
        'push not sent: no provider configured for this platform',
      );
      return;
    }
    const push = renderFor(d, n);
    const accepted = this.queue.enqueue({
      attempt: () => provider.send(d.token, push),
      done: async (result: DeliveryResult, attempts) => {
        metrics.queued.set(this.queue.size);
        const outcome = result.outcome === 'retry' ? 'gave_up' : result.outcome;
        metrics.deliveries.inc({ provider: provider.name, outcome });
        if (result.outcome === 'sent') return;
        const reason = result.reason;
        if (result.outcome === 'dead') {
          logger.info({ userId: d.userId, provider: provider.name, token: tokenHint, reason }, 'push token is dead; removing the device');
          await this.deps
            .removeDead(d.userId, d.token)
            .catch((err: unknown) => logger.warn({ err, userId: d.userId }, 'could not remove a dead push token'));
          return;
        }
        logger.warn({ userId: d.userId, provider: provider.name, token: tokenHint, reason, attempts }, 'push not delivered');
      },
    });
    if (!accepted) {
      metrics.deliveries.inc({ provider: provider.name, outcome: 'dropped' });
      logger.warn({ userId: d.userId, provider: provider.name, queued: this.queue.size }, 'push dropped: delivery queue full');
    }
  }

  async stop(): Promise<void> {
    await this.queue.stop();
    await Promise.all(Object.values(this.deps.providers).map((p) => p.close()));
  }
}

import { readFileSync } from 'node:fs';
import type { AppContext } from '../context';
import { APNS_HOSTS, ApnsProvider } from './apns-provider';
import type { DeviceDirectory } from './device-directory';
import { FcmProvider, ServiceAccountKey } from './fcm-provider';
import { ProviderPushSender, createPushMetrics } from './provider-push-sender';
import type { ProviderName, PushProvider } from './push-provider';
import { LogPushSender, type PushSender } from './push-sender';
import type { Stoppable } from '../lib/job';

/** A dead token goes from both copies: the PostgreSQL record and the directory senders read. */
async function removeDeadToken(ctx: AppContext, devices: DeviceDirectory, userId: string, token: string): Promise<void> {
  await ctx.db.prisma.device.deleteMany({ where: { token, userId } });
  await devices.remove(userId, token);
}

function readConfigFile(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path}`, { cause: err });
  }
}

/** APNs and FCM as configured; empty in embedded/dev set-ups, which then keep the log sender. */
export function buildPushProviders(ctx: Pick<AppContext, 'config' | 'now'>): Partial<Record<ProviderName, PushProvider>> {
  const c = ctx.config;
  const out: Partial<Record<ProviderName, PushProvider>> = {};
  if (c.APNS_KEY_FILE && c.APNS_KEY_ID && c.APNS_TEAM_ID && c.APNS_TOPIC) {
    out.apns = new ApnsProvider({
      origin: c.APNS_HOST === 'production' || c.APNS_HOST === 'sandbox' ? APNS_HOSTS[c.APNS_HOST] : c.APNS_HOST,
      keyPem: readConfigFile(c.APNS_KEY_FILE, 'APNS_KEY_FILE'),
      keyId: c.APNS_KEY_ID,
      teamId: c.APNS_TEAM_ID,
      topic: c.APNS_TOPIC,
      timeoutMs: c.PUSH_TIMEOUT_MS,
      now: ctx.now,
    });
  }
  if (c.FCM_SERVICE_ACCOUNT_FILE) {
    const parsed = ServiceAccountKey.safeParse(JSON.parse(readConfigFile(c.FCM_SERVICE_ACCOUNT_FILE, 'FCM_SERVICE_ACCOUNT_FILE')));
    if (!parsed.success)
      throw new Error(
        `FCM_SERVICE_ACCOUNT_FILE: not a service-account key (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')})`,
      );
    out.fcm = new FcmProvider({
      account: parsed.data,
      apiBase: c.FCM_API_BASE,
      tokenUrl: c.FCM_TOKEN_URL ?? parsed.data.token_uri ?? 'https://oauth2.googleapis.com/token',
      timeoutMs: c.PUSH_TIMEOUT_MS,
      now: ctx.now,
    });
  }
  return out;
}

/** APNs/FCM through a retrying queue when configured, the log sender otherwise. */
export function buildPushSender(ctx: AppContext, devices: DeviceDirectory): { sender: PushSender; stoppables: Stoppable[] } {
  const providers = buildPushProviders(ctx);
  if (Object.keys(providers).length === 0) return { sender: new LogPushSender(devices, ctx.logger, ctx.now), stoppables: [] };
  const c = ctx.config;
  const sender = new ProviderPushSender({
    devices,
    providers,
    removeDead: (userId, token) => removeDeadToken(ctx, devices, userId, token),
    logger: ctx.logger,
    metrics: createPushMetrics(ctx),
    now: ctx.now,
    queue: {
      concurrency: c.PUSH_CONCURRENCY,
      maxQueued: c.PUSH_QUEUE_MAX,
      maxAttempts: c.PUSH_MAX_ATTEMPTS,
      baseDelayMs: c.PUSH_RETRY_BASE_MS,
      maxDelayMs: 60_000,
    },
  });
  ctx.logger.info({ providers: Object.keys(providers) }, 'push notifications go to the providers');
  return { sender, stoppables: [{ name: 'push sender', stop: () => sender.stop() }] };
}

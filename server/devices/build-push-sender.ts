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

/** The push providers the composition root turned on, and the retry queue in front of them. */
export interface PushSettings {
  apns?: { host: string; keyFile: string; keyId: string; teamId: string; topic: string };
  fcm?: { serviceAccountFile: string; apiBase: string; tokenUrl: string | undefined };
  timeoutMs: number;
  queue: { concurrency: number; maxQueued: number; maxAttempts: number; baseDelayMs: number };
}

/** APNs and FCM as set; empty in embedded/dev set-ups, which then keep the log sender. */
export function buildPushProviders(s: PushSettings, now: () => number): Partial<Record<ProviderName, PushProvider>> {
  const out: Partial<Record<ProviderName, PushProvider>> = {};
  if (s.apns) {
    out.apns = new ApnsProvider({
      origin: s.apns.host === 'production' || s.apns.host === 'sandbox' ? APNS_HOSTS[s.apns.host] : s.apns.host,
      keyPem: readConfigFile(s.apns.keyFile, 'APNS_KEY_FILE'),
      keyId: s.apns.keyId,
      teamId: s.apns.teamId,
      topic: s.apns.topic,
      timeoutMs: s.timeoutMs,
      now,
    });
  }
  if (s.fcm) {
    const parsed = ServiceAccountKey.safeParse(JSON.parse(readConfigFile(s.fcm.serviceAccountFile, 'FCM_SERVICE_ACCOUNT_FILE')));
    if (!parsed.success)
      throw new Error(
        `FCM_SERVICE_ACCOUNT_FILE: not a service-account key (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')})`,
      );
    out.fcm = new FcmProvider({
      account: parsed.data,
      apiBase: s.fcm.apiBase,
      tokenUrl: s.fcm.tokenUrl ?? parsed.data.token_uri ?? 'https://oauth2.googleapis.com/token',
      timeoutMs: s.timeoutMs,
      now,
    });
  }
  return out;
}

export function buildPushSender(
  ctx: AppContext,
  devices: DeviceDirectory,
  settings: PushSettings,
): { sender: PushSender; stoppables: Stoppable[] } {
  const providers = buildPushProviders(settings, ctx.now);
  if (Object.keys(providers).length === 0) return { sender: new LogPushSender(devices, ctx.logger, ctx.now), stoppables: [] };
  const sender = new ProviderPushSender({
    devices,
    providers,
    removeDead: (userId, token) => removeDeadToken(ctx, devices, userId, token),
    logger: ctx.logger,
    metrics: createPushMetrics(ctx),
    now: ctx.now,
    queue: { ...settings.queue, maxDelayMs: 60_000 },
  });
  ctx.logger.info({ providers: Object.keys(providers) }, 'push notifications go to the providers');
  return { sender, stoppables: [{ name: 'push sender', stop: () => sender.stop() }] };
}

import { dirname, join } from 'node:path';
import { z } from 'zod';
import { authEnv } from './env-auth';
import { httpEnv } from './env-http';
import { ordersEnv } from './env-orders';
import { presenceEnv } from './env-presence';
import { servicesEnv } from './env-services';

/**
 * The one place that reads the environment. Every field has a default that yields a complete
 * single-node server (embedded mode); each service URL switches one part to the real thing.
 * Each section's variables are declared in its own env-*.ts file; this one schema reads them all.
 */
export const envSchema = z.object({ ...servicesEnv, ...authEnv, ...ordersEnv, ...httpEnv, ...presenceEnv });

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  mode: 'embedded' | 'cluster';
  /** DATA_DIR resolved: what embedded mode keeps lives in here. */
  dataDir: string;
  /** PGLITE_DATA_DIR resolved (`dataDir/pglite` unless set). */
  PGLITE_DATA_DIR: string;
  devMode: boolean;
  seedDemoData: boolean;
  nodeId: string;
  dynamo: { endpoint: string | undefined; region: string; tablePrefix: string } | undefined;
  stripe: { secretKey: string; webhookSecret: string; apiBase: string | undefined } | undefined;
  corsOrigins: '*' | string[];
  /** TRUST_PROXY as Express's `trust proxy` setting takes it. */
  trustProxy: false | number | string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Empty strings count as unset, as shells and compose files often export them. */
function clean(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') out[key] = v.trim();
  }
  return out;
}

/** A provider is either fully configured or not at all: half a configuration is a typo, not a choice. */
function providerProblems(e: Env): string[] {
  const out: string[] = [];
  const together = (names: (keyof Env)[]) => {
    const set = names.filter((n) => e[n] !== undefined);
    if (set.length > 0 && set.length < names.length)
      out.push(`${names.filter((n) => e[n] === undefined).join(', ')}: required with ${set.join(', ')}`);
  };
  together(['APNS_KEY_FILE', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC']);
  together(['FACEBOOK_APP_ID', 'FACEBOOK_APP_SECRET']);
  together(['INSTAGRAM_APP_ID', 'INSTAGRAM_APP_SECRET']);
  together(['TIKTOK_CLIENT_KEY', 'TIKTOK_CLIENT_SECRET']);
  together(['SNAPCHAT_CLIENT_ID', 'SNAPCHAT_CLIENT_SECRET']);
  together(['TWITTER_CLIENT_ID', 'TWITTER_CLIENT_SECRET']);
  const { email, phone } = codeSenders(e);
  if (email === 'smtp' && (!e.SMTP_URL || !e.CODE_FROM_EMAIL))
    out.push('SMTP_URL and CODE_FROM_EMAIL: required when e-mail codes go by SMTP');
  if (phone === 'twilio' && (!e.TWILIO_ACCOUNT_SID || !e.TWILIO_AUTH_TOKEN || !e.TWILIO_FROM)) {
    out.push('TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM: required when SMS codes go by Twilio');
  }
  return out;
}

/** Which sender each code channel uses. */
export function codeSenders(c: Pick<Env, 'CODE_SENDER' | 'CODE_SENDER_EMAIL' | 'CODE_SENDER_SMS'>): {
  email: 'log' | 'smtp';
  phone: 'log' | 'twilio';
} {
  return {
    email: c.CODE_SENDER_EMAIL ?? (c.CODE_SENDER === 'smtp' ? 'smtp' : 'log'),
    phone: c.CODE_SENDER_SMS ?? (c.CODE_SENDER === 'twilio' ? 'twilio' : 'log'),
  };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(clean(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const usesServices = Boolean(e.DATABASE_URL || e.REDIS_URL || e.DYNAMODB_ENDPOINT || e.AWS_REGION);
  const mode = e.TREATME_MODE ?? (usesServices ? 'cluster' : 'embedded');
  if (e.TREATME_MODE === 'cluster') {
    if (!e.DATABASE_URL) problems.push('DATABASE_URL: required when TREATME_MODE=cluster');
    if (!e.REDIS_URL) problems.push('REDIS_URL: required when TREATME_MODE=cluster');
    if (!e.DYNAMODB_ENDPOINT && !e.AWS_REGION) problems.push('DYNAMODB_ENDPOINT or AWS_REGION: required when TREATME_MODE=cluster');
  }
  if (Boolean(e.STRIPE_SECRET_KEY) !== Boolean(e.STRIPE_WEBHOOK_SECRET)) {
    problems.push('STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET: set both or neither');
  }
  if (mode === 'cluster' && !e.JWT_SECRET && e.DEV_MODE !== true) {
    problems.push('JWT_SECRET: required outside embedded/dev mode (all nodes must share it)');
  }
  problems.push(...providerProblems(e));
  if (e.DEMO_CROWD > 0 && (e.DEV_MODE ?? mode === 'embedded') === false) {
    problems.push('DEMO_CROWD: the demo crowd signs in through the dev routes, so it needs DEV_MODE=true');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const devMode = e.DEV_MODE ?? mode === 'embedded';
  const dataDir = e.DATA_DIR ?? (e.PGLITE_DATA_DIR ? dirname(e.PGLITE_DATA_DIR) : '.data');
  return {
    ...e,
    mode,
    dataDir,
    PGLITE_DATA_DIR: e.PGLITE_DATA_DIR ?? join(dataDir, 'pglite'),
    devMode,
    seedDemoData: e.SEED_DEMO_DATA ?? devMode,
    nodeId: e.NODE_ID ?? `node-${process.pid}`,
    dynamo:
      e.DYNAMODB_ENDPOINT || e.AWS_REGION
        ? { endpoint: e.DYNAMODB_ENDPOINT, region: e.AWS_REGION ?? 'us-east-1', tablePrefix: e.DYNAMODB_TABLE_PREFIX }
        : undefined,
    stripe:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiBase: e.STRIPE_API_BASE }
        : undefined,
    trustProxy: !e.TRUST_PROXY
      ? false
      : /^\d+$/.test(e.TRUST_PROXY)
        ? Number(e.TRUST_PROXY)
        : e.TRUST_PROXY.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    corsOrigins:
      e.CORS_ORIGINS === '*'
        ? '*'
        : e.CORS_ORIGINS.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
  };
}

import { envSchema } from '../server/config/config';

/**
 * What differs between the two environments the stack is deployed as (`-c env=dev|prod`). Everything
 * else is the same code path, so dev exercises what prod runs.
 */
export type EnvName = 'dev' | 'prod';

export interface EnvSettings {
  name: EnvName;
  /** Prefix of every physical name (stacks, tables, secrets, log groups): two environments share one account. */
  prefix: string;
  natGateways: number;
  db: {
    instanceClass: string;
    instanceSize: string;
    multiAz: boolean;
    backupDays: number;
    deletionProtection: boolean;
    allocatedStorageGiB: number;
  };
  redis: { nodeType: string; replicas: number };
  service: { cpu: number; memoryMiB: number; minTasks: number; maxTasks: number };
  /** Data outlives `cdk destroy` in prod; a dev stack cleans up after itself. */
  retainData: boolean;
  logRetentionDays: number;
}

export const ENVIRONMENTS: Record<EnvName, EnvSettings> = {
  dev: {
    name: 'dev',
    prefix: 'treatme-dev',
    natGateways: 1,
    db: { instanceClass: 't4g', instanceSize: 'micro', multiAz: false, backupDays: 7, deletionProtection: false, allocatedStorageGiB: 20 },
    redis: { nodeType: 'cache.t4g.micro', replicas: 0 },
    service: { cpu: 512, memoryMiB: 1024, minTasks: 1, maxTasks: 2 },
    retainData: false,
    logRetentionDays: 14,
  },
  prod: {
    name: 'prod',
    prefix: 'treatme-prod',
    natGateways: 2,
    db: { instanceClass: 'm7g', instanceSize: 'large', multiAz: true, backupDays: 14, deletionProtection: true, allocatedStorageGiB: 100 },
    redis: { nodeType: 'cache.m7g.large', replicas: 1 },
    service: { cpu: 1024, memoryMiB: 2048, minTasks: 2, maxTasks: 20 },
    retainData: true,
    logRetentionDays: 90,
  },
};

export function envSettings(name: unknown): EnvSettings {
  const key = name ?? 'dev';
  if (key !== 'dev' && key !== 'prod') throw new Error(`context "env" must be dev or prod, got ${JSON.stringify(key)}`);
  return ENVIRONMENTS[key];
}

/**
 * The server's own defaults, read from its config schema rather than repeated here: the load balancer's
 * drain and the container's stop timeout are derived from the shutdown budget the server enforces.
 */
export const SERVER_DEFAULTS = {
  port: envSchema.shape.PORT.parse(undefined),
  shutdownTimeoutMs: envSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(undefined),
};

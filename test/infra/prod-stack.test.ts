import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_NAMES } from '../../server/storage/dynamo-tables';
import { asArray, obj, resourcesOfType, synthesise } from './synth-helpers';

// One synth of prod, with a certificate and Redis cluster mode switched on, for the whole file. Its
// cdk-nag run has no dev-only acknowledgments (single AZ, no deletion protection) to lean on.
const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000';
let s: ReturnType<typeof synthesise>;
beforeAll(() => {
  s = synthesise({ context: { env: 'prod', certificateArn: CERT, redisShards: '2', stripe: 'true', push: 'true' } });
}, 120_000);
afterAll(() => s?.cleanup());

describe('prod', () => {
  it('PostgreSQL: multi-AZ, deletion protection, snapshot on removal, ≥ 7 days of backups', () => {
    const [, db] = resourcesOfType(s.platformJson, 'AWS::RDS::DBInstance')[0]!;
    expect(db.Properties!.MultiAZ).toBe(true);
    expect(db.Properties!.DeletionProtection).toBe(true);
    expect(db.Properties!.StorageEncrypted).toBe(true);
    expect(db.Properties!.PubliclyAccessible).toBe(false);
    expect(Number(db.Properties!.BackupRetentionPeriod)).toBeGreaterThanOrEqual(7);
    expect(db.DeletionPolicy).toBe('Snapshot');
  });

  it('DynamoDB tables survive a stack deletion and refuse to be deleted', () => {
    const tables = resourcesOfType(s.platformJson, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(TABLE_NAMES.length);
    for (const [, t] of tables) {
      expect(t.DeletionPolicy).toBe('Retain');
      expect(t.Properties!.DeletionProtectionEnabled).toBe(true);
    }
  });

  it('Redis: replicas across AZs with failover; cluster mode with the requested shards when asked', () => {
    const [, redis] = resourcesOfType(s.platformJson, 'AWS::ElastiCache::ReplicationGroup')[0]!;
    const p = redis.Properties!;
    expect(p.ClusterMode).toBe('enabled');
    expect(p.NumNodeGroups).toBe(2);
    expect(p.CacheParameterGroupName).toBe('default.redis7.cluster.on');
    expect(Number(p.ReplicasPerNodeGroup)).toBeGreaterThanOrEqual(1);
    expect(p.AutomaticFailoverEnabled).toBe(true);
    expect(p.MultiAZEnabled).toBe(true);
    expect(p.TransitEncryptionEnabled).toBe(true);
    expect(p.AtRestEncryptionEnabled).toBe(true);
  });

  it('serves HTTPS with the given certificate; port 80 only redirects', () => {
    const listeners = resourcesOfType(s.serviceJson, 'AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties!);
    const https = listeners.find((l) => l.Port === 443)!;
    expect(https.Protocol).toBe('HTTPS');
    expect(asArray(https.Certificates)).toContainEqual({ CertificateArn: CERT });
    const http = listeners.find((l) => l.Port === 80)!;
    expect(asArray(http.DefaultActions).map((a) => obj(a).Type)).toEqual(['redirect']);
  });

  it('wires the Stripe and push secrets into the API task when asked, by Secrets Manager reference', () => {
    const [, td] = resourcesOfType(s.serviceJson, 'AWS::ECS::TaskDefinition')[0]!;
    const api = asArray(td.Properties!.ContainerDefinitions)
      .map(obj)
      .find((c) => c.Name === 'api')!;
    const secrets = asArray(api.Secrets).map(obj);
    expect(secrets.map((x) => x.Name)).toEqual(
      expect.arrayContaining([
        'STRIPE_SECRET_KEY',
        'STRIPE_WEBHOOK_SECRET',
        'APNS_KEY_P8',
        'APNS_KEY_ID',
        'APNS_TEAM_ID',
        'APNS_TOPIC',
        'FCM_SERVICE_ACCOUNT_JSON',
      ]),
    );
    for (const x of secrets) expect(JSON.stringify(x.ValueFrom)).toMatch(/ImportValue|secret/);
    expect(asArray(api.Environment).map((e) => obj(e).Name)).not.toContain('STRIPE_SECRET_KEY');
  });
});

import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverTables } from '../../infra/dynamo-tables';
import { COLLECTOR_IMAGE, SOCKETS_METRIC } from '../../infra/metrics-collector';
import { envSchema, loadConfig } from '../../server/config/config';
import { createMetrics } from '../../server/observability/metrics';
import { socketIoOptions } from '../../server/realtime/socket-server';
import { socketServerSettings } from '../../server/settings';
import { SPECS, TABLE_NAMES, tableName, type TableName, type TableSpec } from '../../server/storage/dynamo-tables';
import {
  asArray,
  obj,
  refOf,
  resourcesOfType,
  synthesise,
  tableDifferences,
  type Json,
  type JsonObject,
  type Resource,
} from './synth-helpers';

// One synth of the dev environment for the whole file (cdk-nag runs inside it and throws on a finding).
let s: ReturnType<typeof synthesise>;
beforeAll(() => {
  s = synthesise({ context: { env: 'dev' } });
}, 120_000);
afterAll(() => s?.cleanup());

const PREFIX = 'treatme-dev-';

function tableProps(name: TableName): { id: string; props: JsonObject; resource: Resource } {
  const found = resourcesOfType(s.platformJson, 'AWS::DynamoDB::Table').filter(
    ([, r]) => r.Properties?.TableName === tableName(PREFIX, name),
  );
  expect(found, `one table named ${tableName(PREFIX, name)}`).toHaveLength(1);
  const [id, resource] = found[0]!;
  return { id, props: resource.Properties!, resource };
}

/** A server definition with one more sparse index, as the presence table gains one today (#14). */
function withExtraIndex(specs: Record<TableName, TableSpec>): Record<TableName, TableSpec> {
  const changed = structuredClone(specs);
  const presence = changed.presence.input;
  presence.AttributeDefinitions = [...(presence.AttributeDefinitions ?? []), { AttributeName: 'infraTestNode', AttributeType: 'S' }];
  presence.GlobalSecondaryIndexes = [
    ...(presence.GlobalSecondaryIndexes ?? []),
    {
      IndexName: 'infraTestByNode',
      KeySchema: [{ AttributeName: 'infraTestNode', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
  ];
  return changed;
}

describe('DynamoDB tables: exactly the server definitions (server/storage/dynamo-tables.ts)', () => {
  it('has one table per server table and no other', () => {
    expect(resourcesOfType(s.platformJson, 'AWS::DynamoDB::Table')).toHaveLength(TABLE_NAMES.length);
    expect(resourcesOfType(s.serviceJson, 'AWS::DynamoDB::Table')).toHaveLength(0);
  });

  it.each(TABLE_NAMES.map((n) => [n]))('%s: keys, attribute types, indexes, projections and TTL match the server', (name) => {
    const { props } = tableProps(name);
    expect(tableDifferences(props, SPECS[name])).toEqual([]);
  });

  it.each(TABLE_NAMES.map((n) => [n]))('%s: on-demand, point-in-time recovery, encrypted (KMS)', (name) => {
    const { props } = tableProps(name);
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.SSESpecification).toEqual({ SSEEnabled: true });
  });

  it('the presence table has its venue index and the TTL attribute the server writes', () => {
    const { props } = tableProps('presence');
    const names = asArray(props.GlobalSecondaryIndexes).map((g) => obj(g).IndexName);
    expect(names).toContain('byVenue');
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
  });

  it('a change to the server definitions that the stack does not follow is reported', () => {
    const changed = withExtraIndex(SPECS);
    expect(tableDifferences(tableProps('presence').props, changed.presence).join('\n')).toMatch(/GlobalSecondaryIndexes.*infraTestByNode/);
    const ttlOff = structuredClone(SPECS);
    ttlOff.devices.ttl = false;
    expect(tableDifferences(tableProps('devices').props, ttlOff.devices).join('\n')).toMatch(/TimeToLiveSpecification/);
    const retyped = structuredClone(SPECS);
    retyped['venue-counts'].input.AttributeDefinitions = [
      { AttributeName: 'venueId', AttributeType: 'S' },
      { AttributeName: 'shard', AttributeType: 'S' },
    ];
    expect(tableDifferences(tableProps('venue-counts').props, retyped['venue-counts']).join('\n')).toMatch(/AttributeDefinitions/);
  });

  it('follows a new index in the definitions with no change to infra/', () => {
    const changed = withExtraIndex(SPECS);
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Tables');
    serverTables(stack, { prefix: PREFIX, retain: false, specs: changed });
    const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table');
    const presence = Object.values(tables).find((t) => (t as Resource).Properties?.TableName === `${PREFIX}presence`) as Resource;
    expect(tableDifferences(presence.Properties!, changed.presence)).toEqual([]);
  });

  it('refuses a definition it cannot translate instead of deploying a different table', () => {
    const changed = structuredClone(SPECS);
    changed.idempotency.input.StreamSpecification = { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' };
    expect(() =>
      serverTables(new Stack(new App({ builtinCloudFormationValidation: false }), 'T'), { prefix: PREFIX, retain: false, specs: changed }),
    ).toThrow(/StreamSpecification/);
  });
});

/** Each AWS::IAM::Policy statement attached to `roleId` in `template`. */
function statementsOf(template: { Resources: Record<string, Resource> }, roleId: string): JsonObject[] {
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, p]) => asArray(p.Properties?.Roles).some((r) => refOf(r) === roleId))
    .flatMap(([, p]) => asArray(obj(p.Properties!.PolicyDocument).Statement).map(obj));
}

/** Resolves the service stack's `Fn::ImportValue` of a table ARN (optionally `+ '/index/x'`) to "logicalId[/index/x]". */
function tableResource(resource: Json): string {
  const exports = new Map<string, string>();
  for (const out of Object.values(s.platformJson.Outputs ?? {})) {
    const name = out.Export === undefined ? undefined : obj(out.Export).Name;
    const target = refOf(out.Value);
    if (typeof name === 'string' && target) exports.set(name, target);
  }
  const imported = (v: Json) => {
    const name = obj(v)['Fn::ImportValue'];
    const id = typeof name === 'string' ? exports.get(name) : undefined;
    if (!id) throw new Error(`not an imported platform value: ${JSON.stringify(v)}`);
    return id;
  };
  const join = typeof resource === 'object' && resource !== null && !Array.isArray(resource) ? resource['Fn::Join'] : undefined;
  if (Array.isArray(join)) {
    const [sep, parts] = join as [string, Json[]];
    return parts.map((p) => (typeof p === 'string' ? p : imported(p))).join(sep);
  }
  return imported(resource);
}

describe('IAM: least privilege', () => {
  const roleOf = (template: { Resources: Record<string, Resource> }, taskDefId: string) =>
    refOf(obj(template.Resources[taskDefId]!.Properties!).TaskRoleArn)!;

  it('the API task role reaches exactly its tables and their named indexes, with data-plane actions only', () => {
    const [taskDefId] = resourcesOfType(s.serviceJson, 'AWS::ECS::TaskDefinition').map(([id]) => id);
    const statements = statementsOf(s.serviceJson, roleOf(s.serviceJson, taskDefId!));
    const dynamo = statements.filter((st) => asArray(st.Action).some((a) => String(a).startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    const actions = asArray(dynamo[0]!.Action).map(String);
    expect(actions.every((a) => !a.includes('*'))).toBe(true);
    expect(actions.filter((a) => /Create|Delete(Table|Backup)|UpdateTable|UpdateTimeToLive|Restore|Export|Import/.test(a))).toEqual([]);
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
      ]),
    );

    const expected = TABLE_NAMES.flatMap((name) => {
      const { id } = tableProps(name);
      return [id, ...(SPECS[name].input.GlobalSecondaryIndexes ?? []).map((g) => `${id}/index/${g.IndexName}`)];
    });
    expect(asArray(dynamo[0]!.Resource).map(tableResource).sort()).toEqual(expected.sort());
    // Nothing else in the task role's policies is a wildcard resource.
    for (const st of statements) expect(asArray(st.Resource)).not.toContain('*');
  });

  it('the migration task may only describe the tables (CloudFormation owns them)', () => {
    const [taskDefId] = resourcesOfType(s.platformJson, 'AWS::ECS::TaskDefinition').map(([id]) => id);
    const statements = statementsOf(s.platformJson, roleOf(s.platformJson, taskDefId!));
    expect(statements).toHaveLength(1);
    expect(asArray(statements[0]!.Action).map(String).sort()).toEqual(['dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive']);
    expect(
      asArray(statements[0]!.Resource)
        .map((r) => refOf(r))
        .sort(),
    ).toEqual(TABLE_NAMES.map((n) => tableProps(n).id).sort());
  });

  it('no policy anywhere grants dynamodb:* or a table wildcard', () => {
    for (const template of [s.platformJson, s.serviceJson]) {
      for (const [, p] of resourcesOfType(template, 'AWS::IAM::Policy')) {
        const text = JSON.stringify(p.Properties);
        expect(text).not.toMatch(/"dynamodb:\*"|table\/\*|index\/\*/);
      }
    }
  });
});

describe('RDS PostgreSQL', () => {
  it('is encrypted, not public, backed up for at least 7 days, credentials from Secrets Manager', () => {
    const dbs = resourcesOfType(s.platformJson, 'AWS::RDS::DBInstance');
    expect(dbs).toHaveLength(1);
    const db = dbs[0]![1].Properties!;
    expect(db.Engine).toBe('postgres');
    expect(db.StorageEncrypted).toBe(true);
    expect(db.PubliclyAccessible).toBe(false);
    expect(Number(db.BackupRetentionPeriod)).toBeGreaterThanOrEqual(7);
    expect(JSON.stringify(db.MasterUserPassword)).toContain('{{resolve:secretsmanager:');
  });

  it('lives in subnets without a route out of the VPC', () => {
    const [, group] = resourcesOfType(s.platformJson, 'AWS::RDS::DBSubnetGroup')[0]!;
    const subnetIds = asArray(group.Properties!.SubnetIds).map((r) => refOf(r)!);
    expect(subnetIds.length).toBeGreaterThanOrEqual(2);
    expectIsolated(subnetIds);
  });
});

function expectIsolated(subnetIds: string[]): void {
  const r = s.platformJson.Resources;
  for (const id of subnetIds) {
    const subnet = r[id]!.Properties!;
    expect(subnet.MapPublicIpOnLaunch).toBe(false);
    expect(asArray(subnet.Tags)).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Isolated' });
    const tables = resourcesOfType(s.platformJson, 'AWS::EC2::SubnetRouteTableAssociation')
      .filter(([, a]) => refOf(a.Properties!.SubnetId) === id)
      .map(([, a]) => refOf(a.Properties!.RouteTableId));
    expect(tables).toHaveLength(1);
    const routes = resourcesOfType(s.platformJson, 'AWS::EC2::Route').filter(([, route]) =>
      tables.includes(refOf(route.Properties!.RouteTableId)),
    );
    expect(routes, `subnet ${id} has no route to an internet or NAT gateway`).toEqual([]);
  }
}

describe('ElastiCache Redis', () => {
  it('is encrypted in transit (required) and at rest, with an AUTH token from Secrets Manager, in isolated subnets', () => {
    const groups = resourcesOfType(s.platformJson, 'AWS::ElastiCache::ReplicationGroup');
    expect(groups).toHaveLength(1);
    const redis = groups[0]![1].Properties!;
    expect(redis.TransitEncryptionEnabled).toBe(true);
    expect(redis.TransitEncryptionMode).toBe('required');
    expect(redis.AtRestEncryptionEnabled).toBe(true);
    expect(JSON.stringify(redis.AuthToken)).toContain('{{resolve:secretsmanager:');
    // Redis 7: sharded pub/sub, which the sharded socket.io adapter uses, in and out of cluster mode.
    expect(Number(String(redis.EngineVersion).split('.')[0])).toBeGreaterThanOrEqual(7);
    // One shard without cluster mode by default: the server's ioredis client is not a Cluster client (yet).
    expect(redis.ClusterMode).toBe('disabled');
    const subnetGroup = s.platformJson.Resources[refOf(redis.CacheSubnetGroupName)!]!;
    expectIsolated(asArray(subnetGroup.Properties!.SubnetIds).map((r) => refOf(r)!));
  });
});

describe('API service behind the load balancer', () => {
  const lbAttr = (key: string) => {
    const [, lb] = resourcesOfType(s.serviceJson, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!;
    return asArray(lb.Properties!.LoadBalancerAttributes)
      .map(obj)
      .find((a) => a.Key === key)?.Value;
  };
  const tg = () => resourcesOfType(s.serviceJson, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0]![1].Properties!;
  const tgAttr = (key: string) =>
    asArray(tg().TargetGroupAttributes)
      .map(obj)
      .find((a) => a.Key === key)?.Value;
  const apiContainer = () => {
    const [, td] = resourcesOfType(s.serviceJson, 'AWS::ECS::TaskDefinition')[0]!;
    return asArray(td.Properties!.ContainerDefinitions)
      .map(obj)
      .find((c) => c.Name === 'api')!;
  };
  const shutdownMs = envSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(undefined);

  it('health-checks /ready (which turns 503 while a node drains)', () => {
    expect(tg().HealthCheckPath).toBe('/ready');
    expect(tg().Matcher).toEqual({ HttpCode: '200' });
    expect(tg().TargetType).toBe('ip');
  });

  it("keeps idle sockets longer than socket.io's own heartbeat allows them to be silent", () => {
    const io = socketIoOptions(socketServerSettings(loadConfig({})));
    const silentSeconds = ((io.pingInterval ?? 0) + (io.pingTimeout ?? 0)) / 1000;
    expect(silentSeconds).toBeGreaterThan(0);
    expect(Number(lbAttr('idle_timeout.timeout_seconds'))).toBeGreaterThan(silentSeconds);
  });

  it("drains for the server's SHUTDOWN_TIMEOUT_MS and kills only after it", () => {
    expect(tgAttr('deregistration_delay.timeout_seconds')).toBe(String(Math.ceil(shutdownMs / 1000)));
    const env = asArray(apiContainer().Environment).map(obj);
    expect(env).toContainEqual({ Name: 'SHUTDOWN_TIMEOUT_MS', Value: String(shutdownMs) });
    expect(Number(apiContainer().StopTimeout)).toBeGreaterThan(shutdownMs / 1000);
  });

  it('keeps a long-polling socket.io session on one task (sticky)', () => {
    expect(tgAttr('stickiness.enabled')).toBe('true');
  });

  it('runs the project image in private subnets, logs to CloudWatch, rolls back a failed deployment', () => {
    const [, svc] = resourcesOfType(s.serviceJson, 'AWS::ECS::Service')[0]!;
    const p = svc.Properties!;
    expect(obj(obj(p.NetworkConfiguration).AwsvpcConfiguration).AssignPublicIp).toBe('DISABLED');
    expect(obj(p.DeploymentConfiguration).DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
    expect(obj(apiContainer().LogConfiguration).LogDriver).toBe('awslogs');
    expect(JSON.stringify(apiContainer().Image)).toContain('container-assets');
    // Secrets arrive from Secrets Manager, never as plain environment variables.
    const envNames = asArray(apiContainer().Environment).map((e) => obj(e).Name);
    expect(envNames).not.toEqual(expect.arrayContaining(['JWT_SECRET']));
    expect(envNames.filter((n) => /SECRET|PASSWORD|TOKEN|KEY/.test(String(n)))).toEqual([]);
    const secretNames = asArray(apiContainer().Secrets).map((e) => obj(e).Name);
    expect(secretNames).toEqual(expect.arrayContaining(['JWT_SECRET', 'DB_PASSWORD', 'REDIS_AUTH_TOKEN']));
  });

  it('scales on CPU and on the sockets gauge the server exports', () => {
    const metrics = createMetrics();
    expect(metrics.registry.getSingleMetric(SOCKETS_METRIC)).toBe(metrics.socketsConnected);
    const policies = resourcesOfType(s.serviceJson, 'AWS::ApplicationAutoScaling::ScalingPolicy').map(([, p]) =>
      obj(p.Properties!.TargetTrackingScalingPolicyConfiguration),
    );
    expect(
      policies.map((p) =>
        p.PredefinedMetricSpecification === undefined ? undefined : obj(p.PredefinedMetricSpecification).PredefinedMetricType,
      ),
    ).toContain('ECSServiceAverageCPUUtilization');
    const custom = policies.filter((p) => p.CustomizedMetricSpecification !== undefined).map((p) => obj(p.CustomizedMetricSpecification));
    expect(custom.map((c) => c.MetricName)).toEqual([SOCKETS_METRIC]);
    // …and the collector sidecar actually ships that metric to CloudWatch.
    const [, td] = resourcesOfType(s.serviceJson, 'AWS::ECS::TaskDefinition')[0]!;
    const collector = asArray(td.Properties!.ContainerDefinitions)
      .map(obj)
      .find((c) => c.Image === COLLECTOR_IMAGE)!;
    expect(collector.Essential).toBe(false);
    expect(JSON.stringify(collector.Environment)).toContain(SOCKETS_METRIC);
  });
});

describe('network exposure', () => {
  interface Ingress {
    owner: string;
    cidr?: string;
    source?: string;
    from?: Json;
    to?: Json;
  }
  function ingressRules(template: { Resources: Record<string, Resource> }): Ingress[] {
    const rules: Ingress[] = [];
    for (const [id, sg] of resourcesOfType(template, 'AWS::EC2::SecurityGroup')) {
      for (const r of asArray(sg.Properties!.SecurityGroupIngress).map(obj)) {
        rules.push({
          owner: id,
          cidr: (r.CidrIp ?? r.CidrIpv6) as string | undefined,
          source: JSON.stringify(r.SourceSecurityGroupId),
          from: r.FromPort,
          to: r.ToPort,
        });
      }
    }
    for (const [, ing] of resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')) {
      const p = ing.Properties!;
      rules.push({
        owner: JSON.stringify(p.GroupId),
        cidr: (p.CidrIp ?? p.CidrIpv6) as string | undefined,
        source: JSON.stringify(p.SourceSecurityGroupId),
        from: p.FromPort,
        to: p.ToPort,
      });
    }
    return rules;
  }

  it('no security group is open to the internet except the load balancer, on its listener ports', () => {
    const listenerPorts = resourcesOfType(s.serviceJson, 'AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties!.Port);
    expect(listenerPorts.length).toBeGreaterThan(0);
    const [albSgId] = resourcesOfType(s.serviceJson, 'AWS::EC2::SecurityGroup')
      .filter(([id]) => id.startsWith('AlbSg'))
      .map(([id]) => id);
    const all = [...ingressRules(s.platformJson), ...ingressRules(s.serviceJson)];
    const cidrRules = all.filter((r) => r.cidr !== undefined);
    expect(cidrRules.length).toBeGreaterThan(0);
    for (const r of cidrRules) {
      expect(r.owner, `CIDR ingress ${r.cidr} on ${r.owner}`).toBe(albSgId);
      expect(r.from).toBe(r.to);
      expect(listenerPorts).toContain(r.from);
    }
    // Everything else is reachable only from another security group.
    for (const r of all.filter((x) => x.cidr === undefined)) expect(r.source).toMatch(/GroupId/);
  });

  it('PostgreSQL and Redis accept only the app tasks; the API tasks accept only the load balancer', () => {
    const all = [...ingressRules(s.platformJson), ...ingressRules(s.serviceJson)];
    const onPort = (port: number) => all.filter((r) => r.from === port);
    expect(
      onPort(5432)
        .map((r) => r.source)
        .sort(),
    ).toEqual([expect.stringContaining('ApiSg'), expect.stringContaining('MigrationSg')].sort());
    expect(onPort(6379).map((r) => r.source)).toEqual([expect.stringContaining('ApiSg')]);
    expect(onPort(3000).map((r) => r.source)).toEqual([expect.stringContaining('AlbSg')]);
  });
});

describe('cdk-nag', () => {
  it('ran on this synth with every finding acknowledged (an unacknowledged one throws in synth)', () => {
    // The acknowledgments are recorded on the constructs; an unacknowledged finding would have made
    // beforeAll's synth throw (test/infra/nag.test.ts shows it does).
    const acked = [s.platform, s.service].flatMap((st) =>
      st.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')),
    );
    expect(acked.length).toBeGreaterThan(0);
  });
});

import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_elasticache as elasticache,
  aws_logs as logs,
  aws_rds as rds,
  aws_secretsmanager as sm,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { TableName, TableSpec } from '../server/storage/dynamo-tables';
import { DB_PASSWORD_EXCLUDED, ENTRY_POINT, MIGRATE_COMMAND } from './container-entry';
import { TABLE_CHECK_ACTIONS, grantTables, serverTables, type ServerTable } from './dynamo-tables';
import type { EnvSettings } from './environments';
import { serverImage } from './server-image';

export const APP_PORT = 3000;
const DB_PORT = 5432;
const REDIS_PORT = 6379;
const DB_NAME = 'treatme';

export interface PlatformStackProps extends StackProps {
  settings: EnvSettings;
  /** Where the project's Dockerfile is (the repo root). */
  imageDirectory: string;
  /** Redis cluster mode (sharded): off until the server speaks Redis Cluster; see README. */
  redisShards?: number;
  tableSpecs?: Record<TableName, TableSpec>;
}

/**
 * Everything the API service stands on, deployed first: network, PostgreSQL, Redis, the server's
 * DynamoDB tables, secrets, the ECS cluster and the one-off migration task. Splitting the service into
 * its own stack is what lets each deploy run the migration (with the new image) before any task of the
 * new version starts: deploy this stack, run the task, then deploy the service stack.
 */
export class PlatformStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly databaseSecurityGroup: ec2.SecurityGroup;
  readonly redisSecurityGroup: ec2.SecurityGroup;
  readonly migrationSecurityGroup: ec2.SecurityGroup;
  readonly cluster: ecs.Cluster;
  readonly tables: ServerTable[];
  readonly tablePrefix: string;
  readonly database: rds.DatabaseInstance;
  readonly redis: elasticache.CfnReplicationGroup;
  readonly redisEndpoint: { host: string; port: string };
  readonly secrets: { database: sm.ISecret; redisAuth: sm.Secret; jwt: sm.Secret; stripe: sm.Secret; push: sm.Secret };
  readonly migrationTask: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const removal = s.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: s.logRetentionDays, removalPolicy: removal });
    // Env-agnostic on purpose: AZs come from Fn::GetAZs at deploy time, so synth needs no account lookup.
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: s.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // Tasks need egress: Stripe, APNs, FCM and the sign-in providers' JWKS are on the internet.
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // DynamoDB and S3 (ECR image layers) over free gateway endpoints instead of the NAT.
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
      // Nothing is placed in the default security group; restricting it would cost a custom-resource Lambda.
      restrictDefaultSecurityGroup: false,
    });

    this.databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSg', {
      vpc: this.vpc,
      description: 'PostgreSQL: from the app tasks only',
      allowAllOutbound: false,
    });
    this.redisSecurityGroup = new ec2.SecurityGroup(this, 'RedisSg', {
      vpc: this.vpc,
      description: 'Redis: from the API tasks only',
      allowAllOutbound: false,
    });
    this.migrationSecurityGroup = new ec2.SecurityGroup(this, 'MigrationSg', {
      vpc: this.vpc,
      description: 'TreatMe migration task: no ingress; egress to PostgreSQL, DynamoDB, ECR, Secrets Manager',
      allowAllOutbound: true,
    });
    this.allowStoreAccess(this.migrationSecurityGroup, { redis: false });

    // PostgreSQL: private (isolated subnets, no public address), encrypted, backed up, password in Secrets Manager.
    const dbIdentifier = `${s.prefix}-postgres`;
    // Created here rather than by `cloudwatchLogsRetention`, which would add a custom-resource Lambda.
    const dbLogs = new logs.LogGroup(this, 'DatabaseLogs', {
      logGroupName: `/aws/rds/instance/${dbIdentifier}/postgresql`,
      retention: s.logRetentionDays,
      removalPolicy: removal,
    });
    this.database = new rds.DatabaseInstance(this, 'Database', {
      instanceIdentifier: dbIdentifier,
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: new ec2.InstanceType(`${s.db.instanceClass}.${s.db.instanceSize}`),
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.databaseSecurityGroup],
      port: DB_PORT,
      databaseName: DB_NAME,
      credentials: rds.Credentials.fromGeneratedSecret('treatme', {
        secretName: `${s.prefix}/database`,
        excludeCharacters: DB_PASSWORD_EXCLUDED,
      }),
      storageEncrypted: true,
      publiclyAccessible: false,
      multiAz: s.db.multiAz,
      allocatedStorage: s.db.allocatedStorageGiB,
      maxAllocatedStorage: s.db.allocatedStorageGiB * 5,
      storageType: rds.StorageType.GP3,
      // Automated backups give point-in-time restore to any second within the retention window.
      backupRetention: Duration.days(s.db.backupDays),
      deletionProtection: s.db.deletionProtection,
      removalPolicy: s.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: ['postgresql'],
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
    this.database.node.addDependency(dbLogs);

    // Redis: TLS in transit, encrypted at rest, AUTH token from Secrets Manager, Redis 7 (sharded pub/sub).
    const redisAuth = new sm.Secret(this, 'RedisAuth', {
      secretName: `${s.prefix}/redis-auth`,
      description: 'ElastiCache AUTH token (alphanumeric, so it sits in REDIS_URL unescaped)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    const redisSubnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'TreatMe Redis (isolated subnets)',
      subnetIds: this.vpc.isolatedSubnets.map((n) => n.subnetId),
    });
    const shards = props.redisShards ?? 0;
    const clustered = shards > 0;
    const redis = (this.redis = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: `TreatMe ${s.name}: socket.io adapter, locks, rate limits, caches`,
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: s.redis.nodeType,
      port: REDIS_PORT,
      cacheSubnetGroupName: redisSubnets.ref,
      securityGroupIds: [this.redisSecurityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      authToken: redisAuth.secretValue.unsafeUnwrap(), // a {{resolve:secretsmanager}} reference, not the value
      clusterMode: clustered ? 'enabled' : 'disabled',
      cacheParameterGroupName: clustered ? 'default.redis7.cluster.on' : 'default.redis7',
      ...(clustered ? { numNodeGroups: shards, replicasPerNodeGroup: s.redis.replicas } : { numCacheClusters: 1 + s.redis.replicas }),
      automaticFailoverEnabled: clustered || s.redis.replicas > 0,
      multiAzEnabled: s.redis.replicas > 0,
      snapshotRetentionLimit: s.retainData ? 7 : 0,
      autoMinorVersionUpgrade: true,
    }));
    this.redisEndpoint = clustered
      ? { host: redis.attrConfigurationEndPointAddress, port: redis.attrConfigurationEndPointPort }
      : { host: redis.attrPrimaryEndPointAddress, port: redis.attrPrimaryEndPointPort };

    this.tablePrefix = `${s.prefix}-`;
    this.tables = serverTables(this, { prefix: this.tablePrefix, retain: s.retainData, specs: props.tableSpecs });

    const jwt = new sm.Secret(this, 'JwtSecret', {
      secretName: `${s.prefix}/jwt`,
      description: 'JWT_SECRET shared by every API task',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    // Provider credentials are filled in by the operator (README); the stack wires them into the task
    // only when the context says so, so a first deploy does not start tasks with placeholder keys.
    const placeholder = SecretValue.unsafePlainText('REPLACE_ME');
    const stripe = new sm.Secret(this, 'StripeSecret', {
      secretName: `${s.prefix}/stripe`,
      description: 'Stripe keys: {"secretKey":"sk_...","webhookSecret":"whsec_..."}; used when deployed with -c stripe=true',
      secretObjectValue: { secretKey: placeholder, webhookSecret: placeholder },
    });
    const push = new sm.Secret(this, 'PushSecret', {
      secretName: `${s.prefix}/push`,
      description: 'APNs .p8 key + ids and the FCM service-account JSON; used when deployed with -c push=true',
      secretObjectValue: {
        apnsKeyP8: placeholder,
        apnsKeyId: placeholder,
        apnsTeamId: placeholder,
        apnsTopic: placeholder,
        fcmServiceAccountJson: placeholder,
      },
    });
    for (const secret of [stripe, push]) secret.applyRemovalPolicy(removal);
    this.secrets = { database: this.database.secret!, redisAuth, jwt, stripe, push };

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      clusterName: s.prefix,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // The one-off step run before each rollout (README "Deploying to AWS"): migrations, then the table check.
    this.migrationTask = new ecs.FargateTaskDefinition(this, 'MigrationTask', {
      family: `${s.prefix}-migrate`,
      cpu: 512,
      memoryLimitMiB: 1024,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const migrationLogs = new logs.LogGroup(this, 'MigrationLogs', { retention: s.logRetentionDays, removalPolicy: removal });
    this.migrationTask.addContainer('migrate', {
      image: ecs.ContainerImage.fromDockerImageAsset(serverImage(this, props.imageDirectory)),
      entryPoint: ENTRY_POINT,
      command: MIGRATE_COMMAND,
      environment: this.storeEnvironment(false),
      secrets: this.storeSecrets(false),
      logging: ecs.LogDrivers.awsLogs({ logGroup: migrationLogs, streamPrefix: 'migrate' }),
    });
    // CloudFormation owns the tables, so `dynamo:tables` here only verifies them: it may describe, not create.
    grantTables(this.migrationTask.taskRole, this.tables, TABLE_CHECK_ACTIONS, { indexes: false });

    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'MigrationTaskDefinition', { value: this.migrationTask.taskDefinitionArn });
    new CfnOutput(this, 'AppSubnets', { value: this.vpc.privateSubnets.map((n) => n.subnetId).join(',') });
    new CfnOutput(this, 'MigrationSecurityGroup', { value: this.migrationSecurityGroup.securityGroupId });
    new CfnOutput(this, 'StripeSecretArn', { value: stripe.secretArn });
    new CfnOutput(this, 'PushSecretArn', { value: push.secretArn });
  }

  /**
   * Lets tasks in `sg` reach PostgreSQL (and Redis). Written as rules *from* the client's side so that,
   * when the client group lives in the service stack, CDK places the rules there too: the platform
   * stack never refers to the service stack, which is what allows deploying it first.
   */
  allowStoreAccess(sg: ec2.SecurityGroup, opts: { redis: boolean }): void {
    sg.connections.allowTo(this.databaseSecurityGroup, ec2.Port.tcp(DB_PORT), 'to PostgreSQL');
    if (opts.redis) sg.connections.allowTo(this.redisSecurityGroup, ec2.Port.tcp(REDIS_PORT), 'to Redis');
  }

  /** Plain (non-secret) settings every task of this environment gets. */
  storeEnvironment(withRedis: boolean): Record<string, string> {
    return {
      TREATME_MODE: 'cluster',
      AWS_REGION: Stack.of(this).region,
      DYNAMODB_TABLE_PREFIX: this.tablePrefix,
      DB_HOST: this.database.dbInstanceEndpointAddress,
      DB_PORT: this.database.dbInstanceEndpointPort,
      DB_NAME,
      ...(withRedis ? { REDIS_HOST: this.redisEndpoint.host, REDIS_PORT: this.redisEndpoint.port } : {}),
    };
  }

  /** Secrets every task gets, injected by ECS from Secrets Manager (read by the execution role only). */
  storeSecrets(withRedis: boolean): Record<string, ecs.Secret> {
    return {
      DB_USER: ecs.Secret.fromSecretsManager(this.secrets.database, 'username'),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(this.secrets.database, 'password'),
      // db-migrate.ts loads the full config, which wants JWT_SECRET in cluster mode.
      JWT_SECRET: ecs.Secret.fromSecretsManager(this.secrets.jwt),
      ...(withRedis ? { REDIS_AUTH_TOKEN: ecs.Secret.fromSecretsManager(this.secrets.redisAuth) } : {}),
    };
  }
}

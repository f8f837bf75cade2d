import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
  aws_certificatemanager as acm,
  aws_cloudwatch as cloudwatch,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2,
  aws_iam as iam,
  aws_logs as logs,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENTRY_POINT, SERVER_COMMAND } from './container-entry';
import { SERVER_TABLE_ACTIONS, grantTables } from './dynamo-tables';
import { SERVER_DEFAULTS, type EnvSettings } from './environments';
import { collectorConfig, COLLECTOR_IMAGE, SOCKETS_METRIC, METRICS_NAMESPACE } from './metrics-collector';
import { APP_PORT, type PlatformStack } from './platform-stack';
import { serverImage } from './server-image';

export interface ServiceStackProps extends StackProps {
  settings: EnvSettings;
  platform: PlatformStack;
  imageDirectory: string;
  /** ACM certificate for the HTTPS listener; without one the listener is plain HTTP (dev only). */
  certificateArn?: string;
  /** Wire the Stripe / push secrets into the task (after the operator has filled them in). */
  stripe: boolean;
  push: boolean;
  /** Target for the connected-sockets scaling policy. */
  socketsPerTask: number;
  corsOrigins?: string;
}

/**
 * Above socket.io's heartbeat (pingInterval 25 s + pingTimeout 20 s, server/realtime/socket-server.ts):
 * a quiet socket is never cut by the load balancer before socket.io itself would give up on it.
 */
export const ALB_IDLE_TIMEOUT = Duration.seconds(120);

/** The API: Fargate tasks from the project's Dockerfile behind an Application Load Balancer. */
export class ServiceStack extends Stack {
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { settings: s, platform } = props;
    const removal = s.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const serviceName = `${s.prefix}-api`;
    const shutdownMs = SERVER_DEFAULTS.shutdownTimeoutMs;

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'ApiTask', {
      family: serviceName,
      cpu: s.service.cpu,
      memoryLimitMiB: s.service.memoryMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const appLogs = new logs.LogGroup(this, 'ApiLogs', {
      logGroupName: `/treatme/${s.name}/api`,
      retention: s.logRetentionDays,
      removalPolicy: removal,
    });
    const secrets: Record<string, ecs.Secret> = { ...platform.storeSecrets(true) };
    if (props.stripe) {
      secrets.STRIPE_SECRET_KEY = ecs.Secret.fromSecretsManager(platform.secrets.stripe, 'secretKey');
      secrets.STRIPE_WEBHOOK_SECRET = ecs.Secret.fromSecretsManager(platform.secrets.stripe, 'webhookSecret');
    }
    if (props.push) {
      // Names as issue #16 specifies them; the entry script turns the key contents into the *_FILE paths.
      secrets.APNS_KEY_P8 = ecs.Secret.fromSecretsManager(platform.secrets.push, 'apnsKeyP8');
      secrets.APNS_KEY_ID = ecs.Secret.fromSecretsManager(platform.secrets.push, 'apnsKeyId');
      secrets.APNS_TEAM_ID = ecs.Secret.fromSecretsManager(platform.secrets.push, 'apnsTeamId');
      secrets.APNS_TOPIC = ecs.Secret.fromSecretsManager(platform.secrets.push, 'apnsTopic');
      secrets.FCM_SERVICE_ACCOUNT_JSON = ecs.Secret.fromSecretsManager(platform.secrets.push, 'fcmServiceAccountJson');
    }
    const api = this.taskDefinition.addContainer('api', {
      image: ecs.ContainerImage.fromDockerImageAsset(serverImage(this, props.imageDirectory)),
      entryPoint: ENTRY_POINT,
      command: SERVER_COMMAND,
      environment: {
        ...platform.storeEnvironment(true),
        PORT: String(APP_PORT),
        LOG_FORMAT: 'json',
        NODE_ID_PREFIX: s.prefix,
        SHUTDOWN_TIMEOUT_MS: String(shutdownMs),
        ...(props.corsOrigins ? { CORS_ORIGINS: props.corsOrigins } : {}),
      },
      secrets,
      portMappings: [{ containerPort: APP_PORT, name: 'http' }],
      // ECS ignores the Dockerfile's HEALTHCHECK; liveness here, readiness (/ready) at the load balancer.
      healthCheck: {
        command: [
          'CMD-SHELL',
          `node -e "fetch('http://127.0.0.1:${APP_PORT}/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      // SIGKILL only after the server's own shutdown deadline has had its chance.
      stopTimeout: Duration.millis(shutdownMs + 5_000),
      // Non-blocking: a slow CloudWatch Logs must not stall the event loop that serves the sockets.
      logging: ecs.LogDrivers.awsLogs({
        logGroup: appLogs,
        streamPrefix: 'api',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    });
    grantTables(this.taskDefinition.taskRole, platform.tables, SERVER_TABLE_ACTIONS, { indexes: true });

    // Connected sockets reach CloudWatch through an ADOT collector sidecar that scrapes /metrics.
    const metricsLogs = new logs.LogGroup(this, 'MetricsLogs', {
      logGroupName: `/treatme/${s.name}/metrics`,
      retention: s.logRetentionDays,
      removalPolicy: removal,
    });
    const collectorLogs = new logs.LogGroup(this, 'CollectorLogs', { retention: s.logRetentionDays, removalPolicy: removal });
    const collector = this.taskDefinition.addContainer('metrics-collector', {
      image: ecs.ContainerImage.fromRegistry(COLLECTOR_IMAGE),
      essential: false, // losing the metrics pipeline must not take the API down
      cpu: 128,
      memoryReservationMiB: 128,
      environment: { AOT_CONFIG_CONTENT: collectorConfig(this, { port: APP_PORT, serviceName, logGroupName: metricsLogs.logGroupName }) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: collectorLogs, streamPrefix: 'collector' }),
    });
    collector.addContainerDependencies({ container: api, condition: ecs.ContainerDependencyCondition.START });
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [metricsLogs.logGroupArn],
      }),
    );

    // Load balancer: the only thing reachable from the internet.
    const albSg = (this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'AlbSg', {
      vpc: platform.vpc,
      description: 'TreatMe ALB: public listener',
      allowAllOutbound: false,
    }));
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: platform.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: albSg,
      idleTimeout: ALB_IDLE_TIMEOUT,
      dropInvalidHeaderFields: true,
    });
    const accessLogs = (this.accessLogs = new s3.Bucket(this, 'AlbAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // ALB log delivery supports SSE-S3 only
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(s.logRetentionDays) }],
      removalPolicy: removal,
      autoDeleteObjects: false,
    }));
    this.loadBalancer.logAccessLogs(accessLogs, 'alb');

    const apiSg = new ec2.SecurityGroup(this, 'ApiSg', {
      vpc: platform.vpc,
      description: 'TreatMe API tasks: ingress from the load balancer only',
      // Stripe, APNs, FCM and the sign-in providers' JWKS are on the internet (through the NAT).
      allowAllOutbound: true,
    });
    platform.allowStoreAccess(apiSg, { redis: true });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName,
      cluster: platform.cluster,
      taskDefinition: this.taskDefinition,
      securityGroups: [apiSg],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      // desiredCount is left to autoscaling: a deploy must not reset a scaled-out service.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    const targets = new elbv2.ApplicationTargetGroup(this, 'ApiTargets', {
      vpc: platform.vpc,
      port: APP_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [this.service],
      healthCheck: {
        // /ready answers 503 while a store is down or the node drains, so traffic leaves it first.
        path: '/ready',
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      // Matches the server's shutdown budget: connections drain for as long as SIGTERM's drain may take.
      deregistrationDelay: Duration.seconds(Math.ceil(shutdownMs / 1000)),
      // socket.io's HTTP long-polling fallback needs every request of a session on the same task.
      stickinessCookieDuration: Duration.days(1),
    });

    if (props.certificateArn) {
      this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [targets],
      });
      this.loadBalancer.addListener('HttpRedirect', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
    } else {
      this.loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, defaultTargetGroups: [targets] });
    }

    // Autoscaling: CPU, and connected sockets per task (each socket holds memory and fan-out work
    // whether or not it is busy). New sockets go to new tasks; existing ones stay where they are.
    const scaling = this.service.autoScaleTaskCount({ minCapacity: s.service.minTasks, maxCapacity: s.service.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: 60,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
    scaling.scaleToTrackCustomMetric('Sockets', {
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: SOCKETS_METRIC,
        dimensionsMap: { ServiceName: serviceName },
        statistic: 'Average',
        period: Duration.minutes(1),
      }),
      targetValue: props.socketsPerTask,
      // Scaling in closes sockets (clients reconnect elsewhere): be slow to do it.
      scaleInCooldown: Duration.minutes(10),
      scaleOutCooldown: Duration.minutes(1),
    });

    new CfnOutput(this, 'LoadBalancerDns', { value: this.loadBalancer.loadBalancerDnsName });
    new CfnOutput(this, 'ServiceName', { value: this.service.serviceName });
  }
}

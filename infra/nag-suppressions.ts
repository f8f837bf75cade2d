import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { EnvSettings } from './environments';
import type { PlatformStack } from './platform-stack';
import type { ServiceStack } from './service-stack';

/**
 * Every cdk-nag (AwsSolutions) finding this stack accepts, each with the reason it is accepted. Findings
 * that only hold for dev (single AZ, no deletion protection) are acknowledged only for dev, so a prod
 * stack that lost one of those properties fails its synth.
 */
function ack(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason });
}

export function suppressNagFindings(platform: PlatformStack, service: ServiceStack, settings: EnvSettings): void {
  const { secrets } = platform;
  // The generated credentials secret (database.secret is its attachment, a different construct).
  ack(
    platform.database.node.findChild('Secret'),
    'SMG4',
    'Tasks read DATABASE_URL once at start (ECS injects secrets at launch), so a scheduled rotation would break new connections until a rolling restart; rotation is an operator step (README: rotate, then force a new deployment).',
  );
  ack(
    secrets.redisAuth,
    'SMG4',
    'ElastiCache AUTH tokens rotate through ModifyReplicationGroup (ROTATE then SET), which Secrets Manager has no managed rotation function for; done by hand with a rolling restart (README).',
  );
  ack(
    secrets.jwt,
    'SMG4',
    'The server verifies tokens with a single JWT_SECRET; rotating it signs every user out, so it is rotated deliberately, not on a schedule.',
  );
  ack(secrets.stripe, 'SMG4', 'Stripe keys are issued and rolled in the Stripe dashboard; the operator writes the new key here (README).');
  ack(
    secrets.push,
    'SMG4',
    'APNs keys and FCM service-account keys are issued by Apple/Google; the operator writes new ones here (README).',
  );

  ack(
    platform.database,
    'RDS11',
    'PostgreSQL listens only in isolated subnets, reachable only from the API and migration security groups; a non-default port adds nothing there and breaks tooling defaults.',
  );
  ack(
    platform.redis,
    'AEC5',
    'Redis listens only in isolated subnets, reachable only from the API security group, behind TLS and an AUTH token; a non-default port adds nothing.',
  );
  if (!settings.db.multiAz)
    ack(
      platform.database,
      'RDS3',
      'dev only: a single-AZ instance halves the cost of a development stack; prod is multi-AZ (checked: this acknowledgment is not made for prod).',
    );
  if (!settings.db.deletionProtection)
    ack(platform.database, 'RDS10', 'dev only: a development stack must be removable with cdk destroy; prod has deletion protection.');
  if (settings.redis.replicas === 0)
    ack(platform.redis, 'AEC4', 'dev only: one Redis node without replica; prod runs a replica in a second AZ with automatic failover.');

  for (const task of [platform.migrationTask, service.taskDefinition]) {
    ack(
      task,
      'ECS2',
      'Only non-secret settings (mode, region, table prefix, endpoints, ports) are plain environment variables; every credential is injected from Secrets Manager through `secrets`.',
    );
    // The execution role's Resource::* is ecr:GetAuthorizationToken, which IAM only grants on "*".
    ack(
      task.obtainExecutionRole(),
      'IAM5[Resource::*]',
      'ecr:GetAuthorizationToken cannot be scoped to a resource; image pulls themselves are scoped to the asset repository.',
    );
    // The entry point is a shell script: its ${VAR} are shell expansions, not CloudFormation substitutions.
    Validations.of(task).acknowledge({
      id: 'CloudFormation-Validate::E1029',
      reason:
        'The entry point is a POSIX sh script (infra/container-entry.ts); ${VAR} there is shell expansion, meant to reach the container verbatim.',
    });
  }

  ack(
    service.loadBalancerSecurityGroup,
    'EC23',
    'The load balancer is the public entry point: its listener port is open to the internet by design, and it is the only security group that is (test/infra asserts it).',
  );
  ack(
    service.accessLogs,
    'S1',
    'This bucket receives the load balancer access logs; logging access to it into another bucket would only move the question.',
  );
}

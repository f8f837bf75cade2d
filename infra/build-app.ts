import { fileURLToPath } from 'node:url';
import { Annotations, App, Tags, Validations } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import type { TableName, TableSpec } from '../server/storage/dynamo-tables';
import { envSettings } from './environments';
import { suppressNagFindings } from './nag-suppressions';
import { PlatformStack } from './platform-stack';
import { ServiceStack } from './service-stack';

/** The repo root: where the project's Dockerfile is. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BuildOptions {
  /** CDK context (`-c key=value`): env, region, certificateArn, stripe, push, socketsPerTask, redisShards, corsOrigins. */
  context?: Record<string, string>;
  outdir?: string;
  /**
   * CDK's built-in CloudFormation schema validation (≈15 s of WebAssembly per synth). On for
   * `infra:synth` and `cdk deploy`; tests that assert on the template turn it off to stay fast.
   */
  cfnValidation?: boolean;
  /** Tests only: build the tables from other definitions than the server's. */
  tableSpecs?: Record<TableName, TableSpec>;
}

function flag(app: App, key: string): boolean {
  const v: unknown = app.node.tryGetContext(key);
  return v === true || v === 'true';
}

function positiveInt(app: App, key: string, fallback: number): number {
  const v: unknown = app.node.tryGetContext(key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`context "${key}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * The whole environment as two stacks (see platform-stack.ts for why two), with cdk-nag's AwsSolutions
 * rules applied on every synth, whoever synthesises: `npm run infra:synth`, `cdk deploy`, the tests.
 */
export function buildApp(opts: BuildOptions = {}) {
  const app = new App({ context: opts.context, outdir: opts.outdir, builtinCloudFormationValidation: opts.cfnValidation ?? true });
  const settings = envSettings(app.node.tryGetContext('env'));
  const certificateArn = app.node.tryGetContext('certificateArn') as string | undefined;
  const corsOrigins = app.node.tryGetContext('corsOrigins') as string | undefined;
  const base = `TreatMe-${settings.name}`;
  // Region fixed by context (not read from the machine's AWS config), account left to deploy time:
  // synth needs no credentials or lookups, and AZs still resolve through Fn::GetAZs.
  const env = { region: (app.node.tryGetContext('region') as string | undefined) ?? 'us-east-1' };

  const platform = new PlatformStack(app, `${base}-platform`, {
    description: `TreatMe ${settings.name}: network, PostgreSQL, Redis, DynamoDB, secrets, ECS cluster, migration task`,
    env,
    settings,
    imageDirectory: REPO_ROOT,
    redisShards: positiveInt(app, 'redisShards', 0),
    tableSpecs: opts.tableSpecs,
  });
  const service = new ServiceStack(app, `${base}-service`, {
    description: `TreatMe ${settings.name}: API on ECS Fargate behind an Application Load Balancer`,
    env,
    settings,
    platform,
    imageDirectory: REPO_ROOT,
    certificateArn,
    stripe: flag(app, 'stripe'),
    push: flag(app, 'push'),
    socketsPerTask: positiveInt(app, 'socketsPerTask', 4_000),
    corsOrigins,
  });
  service.addStackDependency(platform, 'the migration task (platform stack) runs before the service rolls out');
  if (!certificateArn) {
    Annotations.of(service).addWarningV2(
      'treatme:plain-http',
      'no -c certificateArn=…: the load balancer listens on plain HTTP (fine for a dev stack, not for prod)',
    );
  }
  for (const stack of [platform, service]) {
    Tags.of(stack).add('project', 'treatme');
    Tags.of(stack).add('environment', settings.name);
  }
  suppressNagFindings(platform, service, settings);
  Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app, { verbose: true }));
  return { app, settings, platform, service };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuildOptions } from '../../infra/build-app';
import { TTL_ATTRIBUTE, type TableSpec } from '../../server/storage/dynamo-tables';

/** CloudFormation as JSON: what the assertions walk. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export interface Resource {
  Type: string;
  Properties?: JsonObject;
  DeletionPolicy?: string;
}

/**
 * One synth of the whole app (both stacks, cdk-nag included: an unacknowledged finding throws here)
 * into a temp dir. CDK's CloudFormation schema validation is left to `npm run infra:synth`, for speed.
 */
export function synthesise(opts: Omit<BuildOptions, 'outdir'> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'treatme-cdk-test-'));
  const built = buildApp({ cfnValidation: false, ...opts, outdir });
  const assembly = built.app.synth();
  const template = (name: string) =>
    assembly.getStackByName(name).template as { Resources: Record<string, Resource>; Outputs?: Record<string, JsonObject> };
  return {
    ...built,
    platformJson: template(built.platform.stackName),
    serviceJson: template(built.service.stackName),
    platformTemplate: Template.fromJSON(template(built.platform.stackName)),
    serviceTemplate: Template.fromJSON(template(built.service.stackName)),
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

export function resourcesOfType(template: { Resources: Record<string, Resource> }, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export function asArray(v: Json | undefined): Json[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

export function obj(v: Json | undefined): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`expected an object, got ${JSON.stringify(v)}`);
  return v;
}

/** `{Ref: X}` → X, `{Fn::GetAtt: [X, ...]}` → X. */
export function refOf(v: Json | undefined): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  if (typeof v.Ref === 'string') return v.Ref;
  const att = v['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  return undefined;
}

type KeyElement = { AttributeName?: string; KeyType?: string };
const keyList = (ks: Json | KeyElement[] | undefined) =>
  asArray(ks as unknown as Json).map((k) => `${String(obj(k).AttributeName)}:${String(obj(k).KeyType)}`);

function indexMap(list: Json | undefined | NonNullable<TableSpec['input']['GlobalSecondaryIndexes']>) {
  const out: Record<string, { keys: string[]; projection: string; nonKey: string[] }> = {};
  for (const g of asArray(list as unknown as Json)) {
    const gsi = obj(g);
    const projection = gsi.Projection === undefined ? {} : obj(gsi.Projection);
    out[String(gsi.IndexName)] = {
      keys: keyList(gsi.KeySchema),
      projection: String(projection.ProjectionType ?? 'ALL'),
      nonKey: asArray(projection.NonKeyAttributes).map(String).sort(),
    };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * How a synthesised AWS::DynamoDB::Table differs from the server's definition of it, compared field by
 * field against the spec itself (not against infra's translation of it): keys, attribute types,
 * indexes with their keys and projections, TTL attribute, billing.
 */
export function tableDifferences(props: JsonObject, spec: TableSpec): string[] {
  const diffs: string[] = [];
  const eq = (what: string, stack: unknown, server: unknown) => {
    if (JSON.stringify(stack) !== JSON.stringify(server))
      diffs.push(`${what}: stack ${JSON.stringify(stack)}, server ${JSON.stringify(server)}`);
  };
  const attrs = (list: Json | undefined) =>
    asArray(list)
      .map((a) => `${String(obj(a).AttributeName)}:${String(obj(a).AttributeType)}`)
      .sort();
  eq('KeySchema', keyList(props.KeySchema), keyList(spec.input.KeySchema));
  eq('AttributeDefinitions', attrs(props.AttributeDefinitions), attrs(spec.input.AttributeDefinitions as unknown as Json));
  eq('GlobalSecondaryIndexes', indexMap(props.GlobalSecondaryIndexes), indexMap(spec.input.GlobalSecondaryIndexes));
  eq('TimeToLiveSpecification', props.TimeToLiveSpecification ?? null, spec.ttl ? { AttributeName: TTL_ATTRIBUTE, Enabled: true } : null);
  eq('BillingMode', props.BillingMode, spec.input.BillingMode);
  return diffs;
}

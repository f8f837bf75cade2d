import { RemovalPolicy, aws_dynamodb as dynamodb, aws_iam as iam } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SPECS, TABLE_NAMES, TTL_ATTRIBUTE, tableName, type TableName, type TableSpec } from '../server/storage/dynamo-tables';

/**
 * The server's DynamoDB tables as CloudFormation, built from the very definitions `npm run dynamo:tables`
 * creates tables from (server/storage/dynamo-tables.ts). Nothing about a table is written here: keys,
 * indexes, projections and TTL are read from the spec, so a table or index added there appears in the
 * stack on the next deploy. A spec field this translation does not understand fails the synth rather
 * than deploying a table that differs from the one the server expects.
 */
const TRANSLATED = new Set(['BillingMode', 'AttributeDefinitions', 'KeySchema', 'GlobalSecondaryIndexes']);

export interface TablesProps {
  /** `DYNAMODB_TABLE_PREFIX` of this environment: physical names are the server's `<prefix><table>`. */
  prefix: string;
  retain: boolean;
  /** The server's definitions; tests pass altered ones to prove a difference is caught. */
  specs?: Record<TableName, TableSpec>;
}

export interface ServerTable {
  name: TableName;
  table: dynamodb.Table;
  /** ARNs of the table and each of its indexes: what a least-privilege grant lists. */
  resourceArns: string[];
}

function attribute(spec: TableSpec, table: string, name: string | undefined): dynamodb.Attribute {
  const def = spec.input.AttributeDefinitions?.find((a) => a.AttributeName === name);
  if (!name || !def?.AttributeType) throw new Error(`dynamo-tables: ${table} uses key ${String(name)} without an attribute definition`);
  const type = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY }[def.AttributeType];
  return { name, type };
}

function keys(spec: TableSpec, table: string, schema: { AttributeName?: string; KeyType?: string }[] | undefined) {
  const hash = schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const range = schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return { partitionKey: attribute(spec, table, hash), sortKey: range === undefined ? undefined : attribute(spec, table, range) };
}

function projection(gsi: NonNullable<TableSpec['input']['GlobalSecondaryIndexes']>[number]) {
  const type = gsi.Projection?.ProjectionType ?? 'ALL';
  return {
    projectionType: {
      ALL: dynamodb.ProjectionType.ALL,
      KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
      INCLUDE: dynamodb.ProjectionType.INCLUDE,
    }[type],
    nonKeyAttributes: type === 'INCLUDE' ? gsi.Projection?.NonKeyAttributes : undefined,
  };
}

export function serverTables(scope: Construct, props: TablesProps): ServerTable[] {
  const specs = props.specs ?? SPECS;
  return TABLE_NAMES.map((name) => {
    const spec = specs[name];
    const unknown = Object.keys(spec.input).filter((k) => !TRANSLATED.has(k));
    if (unknown.length > 0)
      throw new Error(`dynamo-tables: ${name} sets ${unknown.join(', ')}, which infra/dynamo-tables.ts does not translate yet`);
    if (spec.input.BillingMode !== 'PAY_PER_REQUEST')
      throw new Error(`dynamo-tables: ${name} is not PAY_PER_REQUEST; the stack only provisions on-demand tables`);
    const physicalName = tableName(props.prefix, name);
    const table = new dynamodb.Table(scope, `Table-${name}`, {
      tableName: physicalName,
      ...keys(spec, name, spec.input.KeySchema),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: spec.ttl ? TTL_ATTRIBUTE : undefined,
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const indexArns: string[] = [];
    for (const gsi of spec.input.GlobalSecondaryIndexes ?? []) {
      if (!gsi.IndexName) throw new Error(`dynamo-tables: ${name} has an index without a name`);
      table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName,
        ...keys(spec, `${name}.${gsi.IndexName}`, gsi.KeySchema),
        ...projection(gsi),
      });
      indexArns.push(`${table.tableArn}/index/${gsi.IndexName}`);
    }
    return { name, table, resourceArns: [table.tableArn, ...indexArns] };
  });
}

/**
 * The data-plane calls the server makes (Get/Put/Update/Delete, Query, Scan, the Batch and Transact
 * forms, which IAM authorises per item action, and DescribeTable for readiness) on exactly its tables
 * and their named indexes: no `index/*`, no other table, no table administration.
 */
export const SERVER_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DescribeTable',
];

/** `npm run dynamo:tables` against CloudFormation-owned tables only checks them (creating is the stack's job). */
export const TABLE_CHECK_ACTIONS = ['dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive'];

export function grantTables(role: iam.IGrantable, tables: ServerTable[], actions: string[], opts: { indexes: boolean }): void {
  const resources = tables.flatMap((t) => (opts.indexes ? t.resourceArns : [t.table.tableArn]));
  role.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
}

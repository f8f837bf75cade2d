import { z } from 'zod';
import { ErrorCode, httpStatusFor } from '../../../protocol/errors';
import type { HttpOperation } from '../../../protocol/http/operation';

export type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as JsonSchema;

const ErrorBody = z.object({
  error: z.object({
    code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** A query value arrives as a string; zod coerces it. The document states the type it is coerced to. */
const NUMERIC_STRING = /^\^\[-\+\]\?/;

interface ObjectSchema {
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

function parameters(op: HttpOperation): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', op.params],
    ['query', op.query],
    ['header', op.headers],
  ] as const) {
    if (!schema) continue;
    const input = toSchema(schema, 'input') as ObjectSchema;
    const output = toSchema(schema, 'output') as ObjectSchema;
    for (const [name, s] of Object.entries(input.properties ?? {})) {
      const coerced = typeof s.pattern === 'string' && NUMERIC_STRING.test(s.pattern) && s.type === 'string';
      const typed = coerced ? (output.properties?.[name] ?? s) : s;
      out.push({ name, in: where, required: where === 'path' || (input.required ?? []).includes(name), schema: typed });
    }
  }
  return out;
}

/** The codes an operation can answer: the ones every operation of its shape can, plus its own. */
export function errorCodesOf(op: HttpOperation): ErrorCode[] {
  const codes = new Set<ErrorCode>(op.errors ?? []);
  if (op.params || op.query || op.body || op.headers) codes.add(ErrorCode.VALIDATION);
  if (op.body) codes.add(ErrorCode.PAYLOAD_TOO_LARGE);
  if (op.auth !== 'none') codes.add(ErrorCode.UNAUTHENTICATED);
  if (op.auth === 'required') codes.add(ErrorCode.FORBIDDEN);
  if (op.params) codes.add(ErrorCode.NOT_FOUND);
  codes.add(ErrorCode.RATE_LIMITED);
  codes.add(ErrorCode.INTERNAL);
  codes.add(ErrorCode.UNAVAILABLE);
  return [...codes];
}

const RETRY_AFTER = { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } };

function errorResponses(op: HttpOperation): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(op)) byStatus.set(httpStatusFor[code], [...(byStatus.get(httpStatusFor[code]) ?? []), code]);
  const out: Record<string, JsonSchema> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: `Error: ${codes.join(', ')}`,
      ...(status === 429 || status === 503 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
      content: {
        'application/json': {
          schema: { $ref: '#/components/schemas/Error' },
          example: { error: { code: codes[0], message: `(${codes[0]} explained in words)` } },
        },
      },
    };
  }
  return out;
}

export const operationIdOf = (op: HttpOperation): string =>
  `${op.method}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;

const TAG_DESCRIPTIONS: Record<string, string> = {
  auth: 'Sign-in (dev, one-time codes, provider ID tokens), sessions and the signed-in user',
  venues: 'Venues near a position with live counts, and who is at one',
  social: 'Friends, blocks and reports',
  groups: 'Groups of friends going out together',
  devices: 'Push tokens',
  orders: 'Buying someone a drink',
  redemptions: 'Bartenders scanning QR codes',
  payments: 'Stripe webhooks and simulated payments',
  staff: 'What a bartender tablet reads',
  operations: 'Probes and metrics',
  documentation: 'Machine- and human-readable contracts',
  pages: 'The web map and the bartender tablet',
};

export function buildOpenApiDocument(ops: HttpOperation[], opts: { devMode: boolean; serverUrl?: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const tags = new Set<string>();
  for (const op of ops) {
    if (op.devOnly && !opts.devMode) continue;
    tags.add(op.tag);
    const responses: Record<string, JsonSchema> = {};
    for (const [status, schema] of Object.entries(op.responses)) {
      const media = op.produces ?? 'application/json';
      responses[status] = schema
        ? { description: 'Success', content: { [media]: { schema: toSchema(schema, 'output') } } }
        : { description: 'Success, no body' };
    }
    Object.assign(responses, errorResponses(op));
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      description: op.devOnly ? `${op.summary}. Served only in dev mode (DEV_MODE=true).` : op.summary,
      tags: [op.tag],
      operationId: operationIdOf(op),
      security: op.auth === 'required' ? [{ bearer: [] }] : op.auth === 'optional' ? [{}, { bearer: [] }] : [],
      parameters: parameters(op),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(op.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'TreatMe live server',
      version: '1',
      description:
        'REST API beside the socket.io protocol (described in AsyncAPI at /api/asyncapi.json). Errors are `{ error: { code, message, issues?, details? } }`; 429 and 503 answers carry `Retry-After`.',
      license: { name: 'Proprietary', url: 'https://treatme.dev/terms' },
    },
    servers: [{ url: opts.serverUrl ?? '/', description: 'This server' }],
    tags: [...tags].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The accessToken a sign-in answers' },
      },
      schemas: { Error: toSchema(ErrorBody, 'output') },
    },
  };
}

/** A plausible value for a JSON schema, for the docs page's examples. */
export function exampleOf(schema: unknown, depth = 0): unknown {
  const s = (schema ?? {}) as JsonSchema & {
    properties?: Record<string, unknown>;
    items?: unknown;
    anyOf?: unknown[];
    oneOf?: unknown[];
    enum?: unknown[];
  };
  if (depth > 8) return null;
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  if (s.const !== undefined) return s.const;
  const variants = s.anyOf ?? s.oneOf;
  if (Array.isArray(variants) && variants.length) return exampleOf(variants[0], depth + 1);
  switch (s.type) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, exampleOf(v, depth + 1)]));
    case 'array':
      return [exampleOf(s.items, depth + 1)];
    case 'integer':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'number':
      return typeof s.minimum === 'number' && s.minimum > 0 ? s.minimum : 40.7128;
    case 'boolean':
      return true;
    case 'string':
      if (s.format === 'email') return 'ava@example.com';
      if (s.format === 'date-time') return '2026-12-01T22:00:00.000Z';
      return 'string';
    default:
      return null;
  }
}

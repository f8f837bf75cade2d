import { Router } from 'express';
import { z } from 'zod';
import { httpStatusFor, type ErrorCode } from '../../../protocol/errors';
import { httpOperations, type HttpOperation } from '../../../protocol/http/operations';
import type { AppContext } from '../../context';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as JsonSchema;

const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** Path and query parameters come from the object schema's properties, one parameter each. */
function parameters(op: HttpOperation): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [['path', op.params], ['query', op.query]] as const) {
    if (!schema) continue;
    const json = toSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, s] of Object.entries(json.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: s });
    }
  }
  return out;
}

export function buildOpenApiDocument(ops: HttpOperation[], opts: { devMode: boolean }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const errorStatuses = [...new Set(Object.values(httpStatusFor))].sort();
  for (const op of ops) {
    if (op.devOnly && !opts.devMode) continue;
    const responses: Record<string, JsonSchema> = {};
    for (const [status, schema] of Object.entries(op.responses)) {
      responses[status] = schema
        ? { description: 'Success', content: { 'application/json': { schema: toSchema(schema, 'output') } } }
        : { description: 'Success, no body' };
    }
    for (const status of errorStatuses) {
      const codes = (Object.keys(httpStatusFor) as ErrorCode[]).filter((c) => httpStatusFor[c] === status);
      responses[String(status)] = { description: `Error: ${codes.join(', ')}`, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      tags: [op.tag],
      operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(op.auth === 'required' ? { security: [{ bearer: [] }] } : op.auth === 'optional' ? { security: [{}, { bearer: [] }] } : {}),
      parameters: parameters(op),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(op.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'TreatMe live server', version: '1', description: 'REST API beside the socket.io protocol. Errors are `{ error: { code, message, issues? } }`.' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: toSchema(ErrorBody, 'output') },
    },
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A self-contained page (no CDN, so it works offline and under a strict CSP). */
function docsPage(ops: HttpOperation[], devMode: boolean): string {
  const rows = ops
    .filter((op) => devMode || !op.devOnly)
    .map(
      (op) =>
        `<tr><td><code class="m ${op.method}">${op.method.toUpperCase()}</code></td><td><code>${escapeHtml(op.path)}</code></td><td>${escapeHtml(op.summary)}</td><td>${op.auth === 'required' ? 'bearer' : op.auth === 'optional' ? 'optional' : '—'}</td><td>${op.tag}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TreatMe API</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%}td,th{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:left}
.m{font-weight:bold}.get{color:#0a7}.post{color:#06c}.put{color:#a60}.delete{color:#c33}</style></head><body>
<h1>TreatMe REST API</h1><p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3, generated from the zod schemas the server validates with).
Errors are <code>{ "error": { "code", "message", "issues"? } }</code>; 429 answers carry <code>Retry-After</code>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Auth</th><th>Tag</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`;
}

export function openApiRoutes(ctx: AppContext): Router {
  const router = Router();
  let doc: JsonSchema | undefined;
  router.get('/api/openapi.json', (_req, res) => {
    // Built on first request: by then every feature has appended its operations.
    doc ??= buildOpenApiDocument(httpOperations, { devMode: ctx.config.devMode });
    res.json(doc);
  });
  router.get('/api/docs', (_req, res) => {
    res.type('html').send(docsPage(httpOperations, ctx.config.devMode));
  });
  return router;
}

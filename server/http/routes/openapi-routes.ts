import { Router, type Request } from 'express';
import type { HttpOperation } from '../../../protocol/http/operation';
import { httpOperations } from '../../../protocol/http/operations';
import { buildAsyncApiDocument } from '../../../protocol/asyncapi';
import { buildOpenApiDocument, exampleOf, type JsonSchema } from './openapi-document';

export { buildOpenApiDocument } from './openapi-document';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const json = (v: unknown) => `<pre>${escapeHtml(JSON.stringify(v, null, 2))}</pre>`;

interface DocOperation {
  summary: string;
  description?: string;
  security: unknown[];
  parameters: { name: string; in: string; required: boolean; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<
    string,
    { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: JsonSchema; example?: unknown }> }
  >;
}

const schemaType = (s: JsonSchema): string =>
  Array.isArray(s.enum) ? s.enum.map(String).join(' | ') : `${String(s.type ?? 'any')}${s.pattern ? ` (${String(s.pattern)})` : ''}`;

/**
 * The reference page: every operation with its parameters, body and answers, each schema with an
 * example, rendered on the server from the same document /api/openapi.json serves. No script and no
 * external asset, so it works offline and under a strict CSP.
 */
function docsPage(doc: JsonSchema, ops: HttpOperation[]): string {
  const paths = doc.paths as Record<string, Record<string, DocOperation>>;
  const sections = new Map<string, string[]>();
  for (const op of ops) {
    const d = paths[op.path]?.[op.method];
    if (!d) continue;
    const auth = op.auth === 'required' ? 'Bearer token' : op.auth === 'optional' ? 'Bearer token optional' : 'none';
    const params = d.parameters.length
      ? `<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th></tr>${d.parameters
          .map(
            (p) =>
              `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${p.in}</td><td>${escapeHtml(schemaType(p.schema))}</td><td>${p.required ? 'yes' : ''}</td></tr>`,
          )
          .join('')}</table>`
      : '';
    const body = d.requestBody?.content['application/json']?.schema;
    const bodyHtml = body
      ? `<h4>Request body</h4><div class="pair"><div><b>Example</b>${json(exampleOf(body))}</div><details><summary>Schema</summary>${json(body)}</details></div>`
      : '';
    const responses = Object.entries(d.responses)
      .map(([status, r]) => {
        const [media, c] = Object.entries(r.content ?? {})[0] ?? [];
        const schema = c?.schema;
        const isError = Number(status) >= 400;
        const detail =
          schema && !isError && media === 'application/json'
            ? `<div class="pair"><div><b>Example</b>${json(exampleOf(schema))}</div><details><summary>Schema</summary>${json(schema)}</details></div>`
            : '';
        return `<tr><td><code>${status}</code></td><td>${escapeHtml(r.description)}${r.headers ? ` (headers: ${Object.keys(r.headers).join(', ')})` : ''}${media && media !== 'application/json' ? ` <code>${media}</code>` : ''}${detail}</td></tr>`;
      })
      .join('');
    const html = `<section id="${escapeHtml(op.method + op.path)}"><h3><code class="m ${op.method}">${op.method.toUpperCase()}</code> <code>${escapeHtml(op.path)}</code></h3>
<p>${escapeHtml(d.description ?? d.summary)} <span class="auth">Auth: ${auth}</span></p>${params}${bodyHtml}<h4>Responses</h4><table>${responses}</table></section>`;
    sections.set(op.tag, [...(sections.get(op.tag) ?? []), html]);
  }
  const toc = [...sections.keys()].map((t) => `<a href="#tag-${t}">${t}</a>`).join(' · ');
  const errorSchema = (doc.components as { schemas: Record<string, unknown> }).schemas.Error;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>TreatMe API</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#1d1d1f}table{border-collapse:collapse;width:100%;margin:.4rem 0}td,th{padding:.3rem .5rem;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
section{border-top:1px solid #ccc;padding:.4rem 0 1rem}h3{margin:.6rem 0 .2rem}h4{margin:.6rem 0 .2rem;font-size:13px}pre{background:#f6f6f8;padding:.5rem;overflow:auto;max-height:22rem;margin:.2rem 0;font-size:12px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.6rem}@media (max-width:700px){.pair{grid-template-columns:1fr}}.auth{color:#666;margin-left:.5rem}
.m{font-weight:bold}.get{color:#0a7}.post{color:#06c}.put{color:#a60}.delete{color:#c33}</style></head><body>
<h1>TreatMe REST API</h1><p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3, generated from the zod schemas the server validates with) and the socket protocol,
<a href="/api/asyncapi.json">/api/asyncapi.json</a> (AsyncAPI 3). Send <code>Authorization: Bearer &lt;accessToken&gt;</code> where auth is required; every <code>POST /api/orders</code> needs an <code>Idempotency-Key</code> header.
429 and 503 answers carry <code>Retry-After</code>.</p><p>${toc}</p>
<details><summary>Error body (every 4xx/5xx)</summary>${json(errorSchema)}</details>
${[...sections].map(([tag, items]) => `<h2 id="tag-${tag}">${tag}</h2>${items.join('\n')}`).join('\n')}
</body></html>`;
}

const serverUrl = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

/** `devMode` documents the dev-only routes too, as a dev-mode server serves them. */
export function openApiRoutes(devMode: boolean): Router {
  const router = Router();
  let doc: JsonSchema | undefined;
  let page: string | undefined;
  let asyncDoc: JsonSchema | undefined;
  // Built on first request: by then every feature has appended its operations.
  const document = () => (doc ??= buildOpenApiDocument(httpOperations, { devMode }));
  router.get('/api/openapi.json', (req, res) => {
    res.json({ ...document(), servers: [{ url: serverUrl(req), description: 'This server' }] });
  });
  router.get('/api/asyncapi.json', (req, res) => {
    asyncDoc ??= buildAsyncApiDocument();
    res.json({
      ...asyncDoc,
      servers: {
        thisServer: {
          host: req.get('host') ?? 'localhost',
          protocol: req.protocol === 'https' ? 'wss' : 'ws',
          pathname: '/socket.io/',
          description: 'socket.io (Engine.IO v4) on this server',
        },
      },
    });
  });
  router.get('/api/docs', (_req, res) => {
    page ??= docsPage(
      document(),
      httpOperations.filter((op) => devMode || !op.devOnly),
    );
    res.type('html').send(page);
  });
  return router;
}

import { z } from 'zod';
import type { HttpOperation } from './operation';

/** Probes, metrics, machine-readable contracts and the two web pages: served routes like any other. */
const ReadyResponse = z.object({
  status: z.enum(['ready', 'draining', 'unavailable']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});
const Document = z.record(z.string(), z.unknown());
const Text = z.string();

export const metaOperations: HttpOperation[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness: the process answers',
    tag: 'operations',
    auth: 'none',
    responses: { 200: z.object({ status: z.literal('ok') }) },
  },
  {
    method: 'get',
    path: '/ready',
    summary: 'Readiness: every configured store answers and the node is not draining (503 otherwise, same body)',
    tag: 'operations',
    auth: 'none',
    responses: { 200: ReadyResponse },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    tag: 'operations',
    auth: 'none',
    produces: 'text/plain',
    responses: { 200: Text },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document (OpenAPI 3)',
    tag: 'documentation',
    auth: 'none',
    responses: { 200: Document },
  },
  {
    method: 'get',
    path: '/api/asyncapi.json',
    summary: 'The socket.io protocol (AsyncAPI 3): events, payloads, acks, error codes, rooms',
    tag: 'documentation',
    auth: 'none',
    responses: { 200: Document },
  },
  {
    method: 'get',
    path: '/api/docs',
    summary: 'Human-readable API reference (self-contained HTML)',
    tag: 'documentation',
    auth: 'none',
    produces: 'text/html',
    responses: { 200: Text },
  },
  {
    method: 'get',
    path: '/map',
    summary: 'The live web map (HTML)',
    tag: 'pages',
    auth: 'none',
    produces: 'text/html',
    responses: { 200: Text },
  },
  {
    method: 'get',
    path: '/tablet',
    summary: 'The bartender tablet (HTML)',
    tag: 'pages',
    auth: 'none',
    produces: 'text/html',
    responses: { 200: Text },
  },
];

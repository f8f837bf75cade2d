/**
 * Counts the SQL statements this process sends to PostgreSQL (node-postgres clients, as Prisma's pg
 * adapter uses) and to PGlite (the embedded database): the figure behind "PostgreSQL queries per
 * check-in". It patches the client classes, so it counts the same way for any version of the server
 * loaded in this process. Imported by tests, and preloaded into benchmarked servers by
 * `pg-query-counter-preload.ts`.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export interface QueryLog {
  count: number;
  /** The text of every statement since `reset`, when kept. */
  texts: string[];
  reset(): void;
}

const log: QueryLog & { keep: boolean } = {
  count: 0,
  texts: [],
  keep: false,
  reset() {
    this.count = 0;
    this.texts = [];
  },
};
let installed = false;

function textOf(arg: unknown): string {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'text' in arg && typeof arg.text === 'string') return arg.text;
  return '';
}

function wrap(proto: object, name: string): void {
  const owner = proto as Record<string, unknown>;
  const original = owner[name];
  if (typeof original !== 'function') return;
  owner[name] = function (this: unknown, ...args: unknown[]) {
    log.count++;
    if (log.keep) log.texts.push(textOf(args[0]));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
}

/** Starts counting (idempotent); `keepTexts` also records each statement's SQL. */
export function countPgQueries(opts: { keepTexts?: boolean } = {}): QueryLog {
  log.keep ||= opts.keepTexts ?? false;
  if (installed) return log;
  installed = true;
  wrap(pg.Client.prototype, 'query');
  // query and exec live on PGlite's base class; patch them where they are defined.
  for (const name of ['query', 'exec']) {
    let p: object | null = PGlite.prototype;
    while (p && !Object.prototype.hasOwnProperty.call(p, name)) p = Object.getPrototypeOf(p) as object | null;
    if (p) wrap(p, name);
  }
  return log;
}

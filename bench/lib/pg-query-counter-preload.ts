/**
 * `node --import tsx --import ./bench/lib/pg-query-counter-preload.ts server/main.ts`: counts the
 * server's SQL statements and its inter-node publishes (socket.io `serverSideEmit`, one Redis publish
 * each) and writes the running totals as JSON to $PG_QUERY_COUNT_FILE every 100 ms, so a benchmark can
 * read a spawned server's (this code's or a baseline's) cost per check-in.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Server } from 'socket.io';
import { countPgQueries } from './pg-query-counter';

const file = process.env.PG_QUERY_COUNT_FILE;
// PG_QUERY_TEXTS=1 also tallies the statements by their first 100 characters (which query is the cost).
const log = countPgQueries({ keepTexts: process.env.PG_QUERY_TEXTS === '1' });
let publishes = 0;
const proto = Server.prototype as unknown as { serverSideEmit: (...args: unknown[]) => boolean };
const original = proto.serverSideEmit;
proto.serverSideEmit = function (this: unknown, ...args: unknown[]) {
  publishes++;
  return original.apply(this, args);
};
if (file) {
  // Written aside and renamed, so a reader never sees half a file.
  const write = () => {
    const texts: Record<string, number> = {};
    for (const t of log.texts) texts[t.slice(0, 100)] = (texts[t.slice(0, 100)] ?? 0) + 1;
    writeFileSync(`${file}.tmp`, JSON.stringify({ queries: log.count, publishes, ...(log.texts.length ? { texts } : {}) }));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 100).unref();
  process.on('exit', write);
}

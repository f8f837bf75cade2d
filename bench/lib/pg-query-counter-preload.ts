/**
 * `node --import tsx --import ./bench/lib/pg-query-counter-preload.ts server/main.ts`: counts the
 * server's SQL statements and writes the running total to $PG_QUERY_COUNT_FILE every 100 ms, so a
 * benchmark can read a spawned server's (this code's or a baseline's) queries per check-in.
 */
import { writeFileSync } from 'node:fs';
import { countPgQueries } from './pg-query-counter';

const file = process.env.PG_QUERY_COUNT_FILE;
const log = countPgQueries();
if (file) {
  const write = () => writeFileSync(file, String(log.count));
  setInterval(write, 100).unref();
  process.on('exit', write);
}

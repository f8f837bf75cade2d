/**
 * `npm run dynamo:local [--port 8000] [--persist]` — runs AWS's DynamoDB Local in the foreground until
 * Ctrl-C. In memory by default (a fresh database per run); --persist keeps data in the cache folder.
 */
import { parseArgs } from 'node:util';
import { DynamoLocalError, cacheDir, startDynamoLocal } from './lib/dynamo-local';
import { tcpReachable } from './lib/services';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { port: { type: 'string', default: '8000' }, persist: { type: 'boolean', default: false } } }));
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: npm run dynamo:local -- [--port 8000] [--persist]`);
    return 1;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`--port must be a port number (1-65535), got ${values.port}`);
    return 1;
  }
  // startDynamoLocal waits for the port to answer: something else already on it would pass for ours.
  if (await tcpReachable('127.0.0.1', port)) {
    console.error(`Port ${port} is already in use (another DynamoDB Local?): choose another with --port`);
    return 1;
  }
  try {
    const local = await startDynamoLocal({ port, inMemory: !values.persist });
    console.log(`DynamoDB Local listening on ${local.endpoint} (${values.persist ? `data in ${cacheDir()}` : 'in memory'})`);
    console.log(`Use it with:  DYNAMODB_ENDPOINT=${local.endpoint} npm run dynamo:tables`);
    console.log('Ctrl-C to stop.');
    return await new Promise<number>((resolve) => {
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void local.stop().then(() => {
          console.log('DynamoDB Local stopped.');
          resolve(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const died = (code: number | null) => {
        if (stopping) return;
        console.error(`DynamoDB Local exited unexpectedly (code ${code})`);
        resolve(1);
      };
      if (local.process.exitCode !== null) died(local.process.exitCode);
      else local.process.once('exit', died);
    });
  } catch (err) {
    if (err instanceof DynamoLocalError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();

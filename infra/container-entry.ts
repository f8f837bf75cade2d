/**
 * The server reads whole URLs (DATABASE_URL, REDIS_URL) and key *files* (APNS_KEY_FILE,
 * FCM_SERVICE_ACCOUNT_FILE), while ECS injects Secrets Manager values as separate environment
 * variables. This POSIX sh prologue, run as the container's entry point, assembles the one from the
 * other and then `exec`s the image's command, so node stays PID 1 and receives SIGTERM directly (the
 * drain within SHUTDOWN_TIMEOUT_MS depends on it). It runs in the project's own image (node:20-slim's
 * dash), unchanged; test/infra/container-entry.test.ts runs it.
 *
 * - The RDS password is generated without URL-reserved characters (see DB_PASSWORD_EXCLUDED), so it
 *   needs no escaping here.
 * - `sslmode=no-verify`: RDS enforces TLS (rds.force_ssl is on for PostgreSQL 15+), but the RDS CA is
 *   not in Node's trust store and the image does not ship the bundle, so the certificate is not
 *   verified. Shipping the bundle and switching to verify-full is in the README's open points.
 * - NODE_ID must differ per task (it names node ownership of presence); a task's hostname is its IP,
 *   which a later task may reuse, so a random suffix is added.
 * - The secret copies are unset before exec so they are not inherited by anything the server spawns.
 */
export const ENTRY_SCRIPT = [
  'set -eu',
  'export DATABASE_URL="postgresql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/${DB_NAME}?sslmode=no-verify"',
  'if [ -n "${REDIS_HOST:-}" ]; then export REDIS_URL="rediss://:${REDIS_AUTH_TOKEN}@${REDIS_HOST}:${REDIS_PORT}"; fi',
  'export NODE_ID="${NODE_ID_PREFIX:-node}-$(cat /proc/sys/kernel/hostname)-$(cut -c1-8 /proc/sys/kernel/random/uuid)"',
  'umask 077',
  'if [ -n "${APNS_KEY_P8:-}" ]; then printf "%s" "$APNS_KEY_P8" > /tmp/apns-key.p8; export APNS_KEY_FILE=/tmp/apns-key.p8; fi',
  'if [ -n "${FCM_SERVICE_ACCOUNT_JSON:-}" ]; then printf "%s" "$FCM_SERVICE_ACCOUNT_JSON" > /tmp/fcm-service-account.json; export FCM_SERVICE_ACCOUNT_FILE=/tmp/fcm-service-account.json; fi',
  'unset DB_PASSWORD REDIS_AUTH_TOKEN APNS_KEY_P8 FCM_SERVICE_ACCOUNT_JSON',
  'exec "$@"',
].join('\n');

/** `sh -c SCRIPT NAME CMD...`: NAME becomes $0, CMD... becomes "$@". */
export const ENTRY_POINT = ['sh', '-c', ENTRY_SCRIPT, 'treatme-entry'];

/** Characters kept out of the generated RDS password so it can sit in a URL unescaped. */
export const DB_PASSWORD_EXCLUDED = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\^=,';

/** The image's own CMD (Dockerfile), repeated because ECS replaces CMD when an entry point is set. */
export const SERVER_COMMAND = ['node', '--import', 'tsx', 'server/main.ts'];

/** The one-off step before each rollout: PostgreSQL migrations, then the DynamoDB check (`npm run dynamo:tables`). */
export const MIGRATE_COMMAND = [
  'sh',
  '-c',
  'node --experimental-wasm-modules --import tsx scripts/db-migrate.ts && node --import tsx scripts/dynamo-tables.ts',
];

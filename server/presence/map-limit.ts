// Moved to server/lib/map-limit.ts. Kept only for dynamo-presence-store.ts, which is being split
// (issue 18 / h13); delete this file once that split imports ../lib/map-limit.
export { mapLimit } from '../lib/map-limit';

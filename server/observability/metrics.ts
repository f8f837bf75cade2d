import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per server instance (tests run several in one process, and prom-client's default
 * registry refuses a metric registered twice). Modules add their own metrics to `registry`.
 */
export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'treatme_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'treatme_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    socketsConnected: new Gauge({ name: 'treatme_sockets_connected', help: 'Open sockets on this node', registers: [registry] }),
    socketEvents: new Counter({
      name: 'treatme_socket_events_total',
      help: 'Client socket events by event and outcome code',
      labelNames: ['event', 'outcome'] as const,
      registers: [registry],
    }),
    redisUp: new Gauge({
      name: 'treatme_redis_up',
      help: '1 while the Redis connection is ready',
      labelNames: ['client'] as const,
      registers: [registry],
    }),
    redisOutages: new Counter({
      name: 'treatme_redis_outages_total',
      help: 'Times a Redis connection went from ready to lost',
      labelNames: ['client'] as const,
      registers: [registry],
    }),
    countBroadcasts: new Counter({
      name: 'treatme_venue_count_broadcasts_total',
      help: 'venue:count broadcasts sent (after coalescing)',
      registers: [registry],
    }),
    countResyncRepairs: new Counter({
      name: 'treatme_venue_count_resync_repairs_total',
      help: 'Venue counts a resync found newer than what viewers last got (a lost broadcast repaired)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    countChanges: new Counter({
      name: 'treatme_venue_count_changes_total',
      help: 'Count changes fed to the coalescer',
      registers: [registry],
    }),
    // Per command, not per HTTP attempt: the figure a DynamoDB bill and a write-capacity plan are made of.
    dynamoRequests: new Counter({
      name: 'treatme_dynamodb_requests_total',
      help: 'DynamoDB commands sent by this node, by command (PutItem, TransactWriteItems, Query, …)',
      labelNames: ['command'] as const,
      registers: [registry],
    }),
    // Group commit: how many users' check-ins, moves, leaves and sweeps share one TransactWriteItems.
    dynamoWriteBatch: new Histogram({
      name: 'treatme_dynamodb_write_batch_size',
      help: 'Membership changes carried by each committed DynamoDB transaction of this node',
      buckets: [1, 2, 4, 8, 16, 32],
      registers: [registry],
    }),
    // What the batching costs a check-in's ack: the window, plus waiting for a free transaction slot when busy.
    dynamoWriteWait: new Histogram({
      name: 'treatme_dynamodb_write_wait_seconds',
      help: 'Time a membership change waited before its DynamoDB transaction was sent (batching window and slot queueing)',
      buckets: [0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    // The node holding the sockets ends stays whose heartbeats stopped; like the sweeper, it can fall behind.
    presenceTimeoutsThrough: new Gauge({
      name: 'treatme_presence_timeouts_through_seconds',
      help: 'Epoch seconds: every stay on this node whose heartbeat timeout fell before it has been ended',
      registers: [registry],
    }),
    // A sweeper falling behind keeps ended stays counted: now − this is how far behind it is.
    presenceSweptThrough: new Gauge({
      name: 'treatme_presence_swept_through_seconds',
      help: 'Epoch seconds up to which every expired stay has been ended (the last sweep that found nothing left to end); advances on the node holding the sweep lease, so the cluster figure is the max over nodes',
      registers: [registry],
    }),
    presenceSweepLease: new Gauge({
      name: 'treatme_presence_sweep_lease',
      help: '1 on the node that holds the cluster sweep lease (the one sweeping), 0 elsewhere',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

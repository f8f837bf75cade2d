import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * The server exports Prometheus metrics on /metrics (server/observability/metrics.ts) and has no
 * CloudWatch client of its own. An AWS Distro for OpenTelemetry collector in each task scrapes that
 * endpoint over localhost and writes the few metrics scaling and alarms need to CloudWatch as
 * Embedded Metric Format log events (the awsemf exporter), one datapoint per task per scrape with
 * the service as dimension, so "Average" over a minute is sockets per task.
 */
export const METRICS_NAMESPACE = 'TreatMe';
/** The server's gauge of open sockets on a node (`socketsConnected` in server/observability/metrics.ts). */
export const SOCKETS_METRIC = 'treatme_sockets_connected';
/** 1 while a Redis connection is ready, by client: the alarm an operator wants when Redis is down. */
export const REDIS_UP_METRIC = 'treatme_redis_up';
/** Pinned, as every image the stack runs should be; bump deliberately. */
export const COLLECTOR_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0';

/** Collector config (JSON is YAML, so no YAML library), read by ADOT from AOT_CONFIG_CONTENT. */
export function collectorConfig(scope: Construct, opts: { port: number; serviceName: string; logGroupName: string }): string {
  const config = {
    receivers: {
      prometheus: {
        config: {
          scrape_configs: [
            {
              job_name: 'treatme',
              scrape_interval: '15s',
              metrics_path: '/metrics',
              static_configs: [{ targets: [`localhost:${opts.port}`], labels: { ServiceName: opts.serviceName } }],
              metric_relabel_configs: [{ source_labels: ['__name__'], regex: `${SOCKETS_METRIC}|${REDIS_UP_METRIC}`, action: 'keep' }],
            },
          ],
        },
      },
    },
    processors: { batch: { timeout: '10s' } },
    exporters: {
      awsemf: {
        region: Stack.of(scope).region,
        namespace: METRICS_NAMESPACE,
        log_group_name: opts.logGroupName,
        log_stream_name: '{TaskId}',
        dimension_rollup_option: 'NoDimensionRollup',
        metric_declarations: [
          { dimensions: [['ServiceName']], metric_name_selectors: [SOCKETS_METRIC] },
          { dimensions: [['ServiceName', 'client']], metric_name_selectors: [REDIS_UP_METRIC] },
        ],
      },
    },
    service: { pipelines: { metrics: { receivers: ['prometheus'], processors: ['batch'], exporters: ['awsemf'] } } },
  };
  return Stack.of(scope).toJsonString(config);
}

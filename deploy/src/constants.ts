/**
 * Names the dashboards share with the Prometheus rules (deploy/prometheus/rules/*.yml) and the
 * Grafana provisioning (deploy/grafana/provisioning). Metric names come from @o11y/metrics and the
 * order service; change them there first.
 */

/** Datasource uids set in deploy/grafana/provisioning/datasources/datasources.yml. */
export const DATASOURCE_UID = {
  prometheus: 'prometheus',
  jaeger: 'jaeger'
} as const

/** Metric names emitted by @o11y/metrics (and prom-client's defaults) and the order service. */
export const METRIC = {
  requests: 'http_requests_total',
  duration: 'http_request_duration_seconds',
  durationBucket: 'http_request_duration_seconds_bucket',
  exceptions: 'http_requests_exceptions_total',
  inFlight: 'http_requests_in_flight',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
  eventLoopLagP50: 'nodejs_eventloop_lag_p50_seconds',
  eventLoopUtilization: 'nodejs_eventloop_utilization_ratio',
  heapUsed: 'nodejs_heap_size_used_bytes',
  heapTotal: 'nodejs_heap_size_total_bytes',
  residentMemory: 'process_resident_memory_bytes',
  cpuSeconds: 'process_cpu_seconds_total',
  ordersCreated: 'orders_created_total',
  paymentsProcessed: 'payments_processed_total'
} as const

/** Recording rules defined in deploy/prometheus/rules/recording.yml. */
export const RECORDED = {
  requestsByRouteStatus: 'service_route_status_code:http_requests:rate5m',
  requests: 'service:http_requests:rate5m',
  requests5xxRatio: 'service:http_requests_5xx:ratio_rate5m',
  requests4xxRatio: 'service:http_requests_4xx:ratio_rate5m',
  durationBucketsByRoute: 'service_route_le:http_request_duration_seconds_bucket:rate5m',
  durationP95: 'service:http_request_duration_seconds:p95_5m',
  exceptionsByRoute: 'service_route_exception:http_requests_exceptions:rate5m',
  exceptions: 'service:http_requests_exceptions:rate5m',
  requestsDailyAverage: 'service:http_requests:rate5m:avg_over_time_1d',
  eventLoopLagP99Max: 'service:nodejs_eventloop_lag_p99_seconds:max'
} as const

/** Labels every dashboard variable and alert groups by (set in deploy/prometheus/prometheus.yml). */
export const LABEL = {
  service: 'service',
  route: 'route',
  statusCode: 'status_code',
  exception: 'exception',
  paymentStatus: 'status'
} as const

/** Thresholds of deploy/prometheus/rules/alerts.yml, drawn on the dashboard's alert-signal stats. */
export const ALERT_THRESHOLD = {
  /** High5xxErrorRate: share of 5xx responses. */
  errorRatio5xx: 0.05,
  /** HighRequestLatency: p95 in seconds. */
  latencyP95Seconds: 2,
  /** ExceptionSpike: exceptions per second. */
  exceptionsPerSecond: 1,
  /** EventLoopLagHigh: p99 lag in seconds. */
  eventLoopLagP99Seconds: 0.25
} as const

/**
 * Names the dashboards share with the Prometheus rules (deploy/prometheus/rules/*.yml) and the
 * Grafana provisioning (deploy/grafana/provisioning). Metric names come from @o11y/metrics and the
 * order service; change them there first. The names @o11y/metrics and @o11y/logging emit come from
 * @o11y/semconv.
 */

import { HISTOGRAM_SERIES, LABELS, LOG_FIELDS, METRIC_NAMES, REQUEST_LINE_MESSAGE, RUNTIME_METRIC_NAMES } from '@o11y/semconv'

/** Datasource uids set in deploy/grafana/provisioning/datasources/datasources.yml. */
export const DATASOURCE_UID = {
  prometheus: 'prometheus',
  jaeger: 'jaeger',
  loki: 'loki'
} as const

/**
 * Where the fields of @o11y/logging's lines are in Loki once the records arrive over OTLP
 * (deploy/loki/config.yaml): the resource attribute service.name becomes the stream label
 * service_name; the record's own trace and span ids and severity, and every log attribute, become
 * structured metadata (Loki replaces dots with underscores and flattens objects: err.message ->
 * err_message). The attribute names are @o11y/logging's log fields (packages/logging/README.md).
 */
export const LOG_FIELD = {
  service: 'service_name',
  traceId: LOG_FIELDS.traceId,
  spanId: LOG_FIELDS.spanId,
  /** OpenTelemetry SeverityNumber: 17-20 ERROR, 21-24 FATAL. */
  severityNumber: 'severity_number',
  severityText: 'severity_text',
  /** Stream label from the resource attribute service.instance.id (one per process). */
  serviceInstance: 'service_instance_id',
  route: LOG_FIELDS.route,
  method: LOG_FIELDS.method,
  statusCode: LOG_FIELDS.statusCode,
  responseTimeMs: LOG_FIELDS.responseTimeMs,
  requestId: LOG_FIELDS.requestId,
  errorType: `${LOG_FIELDS.error}_type`,
  errorMessage: `${LOG_FIELDS.error}_message`
} as const

/** Message (the OTLP record's body) of @o11y/logging's one line per request. */
export { REQUEST_LINE_MESSAGE }

/** Lowest OpenTelemetry SeverityNumber of ERROR (pino `error`); FATAL is 21. */
export const SEVERITY_NUMBER_ERROR = 17

/** Metric names emitted by @o11y/metrics (and prom-client's defaults) and the order service. */
export const METRIC = {
  requests: METRIC_NAMES.requestsTotal,
  duration: METRIC_NAMES.requestDuration,
  durationBucket: `${METRIC_NAMES.requestDuration}${HISTOGRAM_SERIES.bucket}`,
  exceptions: METRIC_NAMES.exceptionsTotal,
  inFlight: METRIC_NAMES.inFlight,
  eventLoopLagP99: RUNTIME_METRIC_NAMES.eventLoopLagP99,
  eventLoopLagP50: RUNTIME_METRIC_NAMES.eventLoopLagP50,
  eventLoopUtilization: METRIC_NAMES.eventLoopUtilization,
  heapUsed: RUNTIME_METRIC_NAMES.heapUsed,
  heapTotal: RUNTIME_METRIC_NAMES.heapTotal,
  residentMemory: RUNTIME_METRIC_NAMES.residentMemory,
  cpuSeconds: RUNTIME_METRIC_NAMES.cpuSeconds,
  ordersCreated: 'orders_created_total',
  paymentsProcessed: 'payments_processed_total',
  paymentFailures: 'payment_failures_total',
  orderValueSum: 'order_value_cents_sum',
  orderValueCount: 'order_value_cents_count',
  orderValueBucket: 'order_value_cents_bucket'
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
  route: LABELS.route,
  statusCode: LABELS.statusCode,
  exception: LABELS.exception,
  paymentStatus: 'status',
  paymentFailureReason: 'reason',
  currency: 'currency'
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

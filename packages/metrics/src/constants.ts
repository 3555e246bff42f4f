/**
 * Every name a user, a dashboard or an alert sees is defined here once and documented in the
 * README. Changing one of these is a breaking change.
 */

/** Request metrics with the default (Prometheus-style) naming. */
export const METRIC_NAMES = {
  requestsTotal: 'http_requests_total',
  requestDuration: 'http_request_duration_seconds',
  exceptionsTotal: 'http_requests_exceptions_total',
  inFlight: 'http_requests_in_flight',
  overflowTotal: 'o11y_metrics_overflow_total',
  errorsTotal: 'o11y_metrics_errors_total',
  functionCalls: 'function_calls_total',
  functionDuration: 'function_duration_seconds',
  eventLoopUtilization: 'nodejs_eventloop_utilization_ratio'
} as const

/** Request metrics with OpenTelemetry's stable HTTP semantic-convention names (`naming: 'otel'`). */
export const OTEL_METRIC_NAMES = {
  requestDuration: 'http_server_request_duration_seconds',
  activeRequests: 'http_server_active_requests'
} as const

/** Label names of the request metrics with the default naming. */
export const LABELS = {
  method: 'method',
  route: 'route',
  statusCode: 'status_code',
  exception: 'exception',
  function: 'function',
  status: 'status',
  metric: 'metric',
  source: 'source'
} as const

/** Label names of the request metrics with `naming: 'otel'`. */
export const OTEL_LABELS = {
  method: 'http_request_method',
  route: 'http_route',
  statusCode: 'http_response_status_code',
  errorType: 'error_type'
} as const

/** Exemplar label names (OpenMetrics output only). */
export const EXEMPLAR_LABELS = {
  traceId: 'trace_id',
  spanId: 'span_id'
} as const

/** Label values with a fixed meaning. */
export const LABEL_VALUES = {
  /** `route` of a request that matched no route (404 scans never create new series). */
  unmatched: '__unmatched__',
  /** `method` of a request whose method is not one of the well-known HTTP methods. */
  otherMethod: '_OTHER',
  /** Every label of the one series that takes the excess once a metric reaches `maxLabelSets`. */
  overflow: '__overflow__',
  /** `status` of function_calls_total. */
  success: 'success',
  error: 'error'
} as const

/** Values of the `source` label of o11y_metrics_errors_total. */
export const ERROR_SOURCES = ['label_function', 'metric', 'collector', 'exemplar'] as const
export type ErrorSource = typeof ERROR_SOURCES[number]

/** OpenTelemetry's well-known HTTP methods; anything else is recorded as `_OTHER`. */
export const KNOWN_METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY'] as const

/** OpenTelemetry's recommended HTTP server duration buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10])

export const DEFAULT_MAX_LABEL_SETS = 2000
export const DEFAULT_METRICS_PATH = '/metrics'
/** Routes left out of the request metrics unless `excludeRoutes` says otherwise (the metrics path is added). */
export const DEFAULT_EXCLUDED_ROUTES: readonly string[] = Object.freeze(['/health', '/healthz', '/ready', '/readyz', '/live', '/livez', '/api/health', '/api/ready'])
export const DEFAULT_SCRAPE_TIMEOUT_MS = 5000

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

export const PLUGIN_NAME = '@o11y/metrics'

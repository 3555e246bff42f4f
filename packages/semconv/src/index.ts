// The names that cross a package boundary: what @o11y/metrics emits and deploy's rules, the SLO
// generator and the dashboards query; what @o11y/logging writes and the log pipeline reads; the
// defaults two plugins must agree on. Defined once here and imported everywhere else, never
// copied (tooling/checks fails on a string literal equal to one of them outside this package).
// Zero dependencies and no code: a package that only needs a name installs nothing else.
// A name that belongs to one package alone stays in that package's src/constants.ts; an
// attribute name that @opentelemetry/semantic-conventions defines is imported from there.
// Changing a value here is a breaking change for every dashboard and alert built on it.

/** Metrics @o11y/metrics emits with the default (Prometheus-style) naming. */
export const METRIC_NAMES = Object.freeze({
  /** Counter of requests answered, by method, route and status code. */
  requestsTotal: 'http_requests_total',
  /** Histogram of the time from a request's arrival to the end of its response, in seconds. */
  requestDuration: 'http_request_duration_seconds',
  /** Counter of errors that reached Fastify's error handler, by method, route and exception. */
  exceptionsTotal: 'http_requests_exceptions_total',
  /** Gauge of requests being handled now. */
  inFlight: 'http_requests_in_flight',
  /** Counter of observations sent to an overflow series, by metric. */
  overflowTotal: 'o11y_metrics_overflow_total',
  /** Counter of contained telemetry failures, by source. */
  errorsTotal: 'o11y_metrics_errors_total',
  /** Counter of scrapes of the metrics endpoint, by result. */
  scrapesTotal: 'o11y_metrics_scrapes_total',
  /** Counter of calls of tracked functions, by function and status. */
  functionCalls: 'function_calls_total',
  /** Histogram of tracked functions' duration, in seconds. */
  functionDuration: 'function_duration_seconds',
  /** Gauge of event-loop utilization (0..1) since the previous scrape. */
  eventLoopUtilization: 'nodejs_eventloop_utilization_ratio',
  /** Counter of log lines @o11y/logging dropped (read through LOGGING_DROPPED_LINES_READER). */
  loggingDroppedLines: 'o11y_logging_dropped_lines_total',
  /** Counter of OTLP push-mode export attempts, by result. */
  otlpExportsTotal: 'o11y_metrics_otlp_exports_total',
  /** Cluster mode: gauge of live workers asked in a scrape. */
  clusterWorkers: 'o11y_metrics_cluster_workers',
  /** Cluster mode: gauge of workers that did not answer in time. */
  clusterWorkersMissing: 'o11y_metrics_cluster_workers_missing',
  /** Cluster mode: gauge per worker, 1 if it answered the scrape in time. */
  clusterWorkerUp: 'o11y_metrics_cluster_worker_up',
  /** Cluster mode: counter of workers that exited since the primary started. */
  clusterRetiredWorkers: 'o11y_metrics_cluster_retired_workers_total'
} as const)

/** The request metrics with OpenTelemetry's stable HTTP names (@o11y/metrics `naming: 'otel'`). */
export const OTEL_METRIC_NAMES = Object.freeze({
  requestDuration: 'http_server_request_duration_seconds',
  activeRequests: 'http_server_active_requests'
} as const)

/**
 * Runtime metrics @o11y/metrics exposes with `runtimeMetrics` (prom-client's default collectors;
 * the names are prom-client's) that the suite's dashboards and alerts read.
 */
export const RUNTIME_METRIC_NAMES = Object.freeze({
  eventLoopLagP50: 'nodejs_eventloop_lag_p50_seconds',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
  heapUsed: 'nodejs_heap_size_used_bytes',
  heapTotal: 'nodejs_heap_size_total_bytes',
  residentMemory: 'process_resident_memory_bytes',
  cpuSeconds: 'process_cpu_seconds_total'
} as const)

/** Suffixes of the series a Prometheus histogram is exposed as. */
export const HISTOGRAM_SERIES = Object.freeze({
  bucket: '_bucket',
  sum: '_sum',
  count: '_count'
} as const)

/** The bucket-bound label of a histogram's `_bucket` series. */
export const BUCKET_BOUND_LABEL = 'le'

/** Label names of the request metrics with the default naming, and of the suite's own metrics. */
export const LABELS = Object.freeze({
  method: 'method',
  route: 'route',
  statusCode: 'status_code',
  exception: 'exception',
  function: 'function',
  status: 'status',
  metric: 'metric',
  source: 'source',
  result: 'result'
} as const)

/** Label names of the request metrics with `naming: 'otel'`. */
export const OTEL_LABELS = Object.freeze({
  method: 'http_request_method',
  route: 'http_route',
  statusCode: 'http_response_status_code',
  errorType: 'error_type'
} as const)

/** Exemplar label names (OpenMetrics): the sampled span an observation belongs to. */
export const EXEMPLAR_LABELS = Object.freeze({
  traceId: 'trace_id',
  spanId: 'span_id'
} as const)

/**
 * `route` (metric label, log field, span name) of a request that matched no route: 404 scans
 * never create new series or span names.
 */
export const UNMATCHED_ROUTE = '__unmatched__'

/** The method of a request whose method is not one of KNOWN_HTTP_METHODS (OpenTelemetry's `_OTHER`). */
export const OTHER_METHOD = '_OTHER'

/** Every label of the one series that takes the excess once a metric reaches its cap of label sets. */
export const OVERFLOW_LABEL_VALUE = '__overflow__'

/** OpenTelemetry's well-known HTTP methods; any other method is recorded as OTHER_METHOD. */
export const KNOWN_HTTP_METHODS = Object.freeze(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY'] as const)
export type KnownHttpMethod = typeof KNOWN_HTTP_METHODS[number]

/** OpenTelemetry's recommended HTTP server duration buckets, in seconds (`http_request_duration_seconds`). */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10])

/** Path of @o11y/metrics' scrape endpoint unless `endpoint.path` says otherwise; not traced by @o11y/tracing. */
export const DEFAULT_METRICS_PATH = '/metrics'

/** Health and readiness routes that the plugins leave out unless `ignoreRoutes` says otherwise. */
export const HEALTH_ROUTES: readonly string[] = Object.freeze([
  '/health', '/healthz', '/ready', '/readyz', '/live', '/livez', '/api/health', '/api/ready'
])

/** Field names of the JSON lines @o11y/logging writes (and of the OTLP log records' attributes). */
export const LOG_FIELDS = Object.freeze({
  /** ISO 8601 UTC time of the record. */
  timestamp: 'timestamp',
  /** Level label in upper case: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`. */
  level: 'level',
  /** Name of the logger. */
  logger: 'logger',
  /** The log message. */
  message: 'message',
  /** A serialized error (type, message, stack, cause, own fields). */
  error: 'err',
  /** 32 lowercase hex digits of the active span's trace id. */
  traceId: 'trace_id',
  /** 16 lowercase hex digits of the active span's id. */
  spanId: 'span_id',
  /** W3C trace flags of the active span as 2 hex digits. */
  traceFlags: 'trace_flags',
  /** Request line: route template, UNMATCHED_ROUTE when no route matched. */
  route: 'route',
  /** Request line: HTTP method. */
  method: 'method',
  /** Request line: status code of the response (number). */
  statusCode: 'status_code',
  /** Request line: time from request start to response end in milliseconds (number). */
  responseTimeMs: 'response_time_ms',
  /** Fastify's request id. */
  requestId: 'request_id',
  /** Only on a line shortened to `maxLineBytes`: the byte length the line had before. */
  truncated: 'truncated'
} as const)

/** Message of the one line @o11y/logging writes per request. */
export const REQUEST_LINE_MESSAGE = 'request completed'

/**
 * `globalThis[Symbol.for(LOGGING_DROPPED_LINES_READER)]()` returns how many lines every
 * @o11y/logging destination in the process dropped; @o11y/metrics reads it without importing
 * @o11y/logging.
 */
export const LOGGING_DROPPED_LINES_READER = 'o11y.logging.dropped'

/**
 * `globalThis[Symbol.for(TRACING_RESOURCE_HOLDER)]` is the Resource of the tracer provider that
 * @o11y/tracing runs (set by startTracing, removed by its shutdown); @o11y/logging builds its OTLP
 * log records on it, so logs and spans share service.name and service.instance.id.
 */
export const TRACING_RESOURCE_HOLDER = 'o11y.tracing.resource'

/**
 * Span attribute names of the suite that OpenTelemetry's semantic conventions do not define (for
 * those, import `ATTR_*` from @opentelemetry/semantic-conventions).
 */
export const SPAN_ATTRIBUTES = Object.freeze({
  /** On the SERVER span: Fastify's request id, the `request_id` of the request's log line. */
  requestId: 'http.request.id',
  /** On the link to a caller's context that was not trusted as the parent. */
  linkUntrustedParent: 'o11y.link.untrusted_parent'
} as const)

/** Prefix of every error and warning code of each package (`O11Y_ERR_<PKG>_<KEY>`, docs/errors.md). */
export const ERROR_CODE_PREFIXES = Object.freeze({
  metrics: 'O11Y_ERR_METRICS_',
  tracing: 'O11Y_ERR_TRACING_',
  logging: 'O11Y_ERR_LOGGING_',
  ciGate: 'O11Y_ERR_GATE_',
  slo: 'O11Y_ERR_SLO_'
} as const)

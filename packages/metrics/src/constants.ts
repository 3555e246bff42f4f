/**
 * Every name a user, a dashboard or an alert sees is defined here once and documented in the
 * README. Changing one of these is a breaking change.
 */

import {
  DEFAULT_LATENCY_BUCKETS, DEFAULT_METRICS_PATH, HEALTH_ROUTES, KNOWN_HTTP_METHODS, LABELS, LOGGING_DROPPED_LINES_READER, METRIC_NAMES,
  OTEL_LABELS, OTEL_METRIC_NAMES, OTHER_METHOD, OVERFLOW_LABEL_VALUE, RUNTIME_METRIC_NAMES, UNMATCHED_ROUTE
} from '@o11y/semconv'
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, METRIC_HTTP_SERVER_REQUEST_DURATION
} from '@opentelemetry/semantic-conventions'

// The names other packages, deploy's rules and the dashboards read live in @o11y/semconv.
export { EXEMPLAR_LABELS, LABELS, METRIC_NAMES, OTEL_LABELS, OTEL_METRIC_NAMES } from '@o11y/semconv'

/** Label values with a fixed meaning. */
export const LABEL_VALUES = {
  /** `route` of a request that matched no route (404 scans never create new series). */
  unmatched: UNMATCHED_ROUTE,
  /** `method` of a request whose method is not one of the well-known HTTP methods. */
  otherMethod: OTHER_METHOD,
  /** Every label of the one series that takes the excess once a metric reaches `maxLabelSets`. */
  overflow: OVERFLOW_LABEL_VALUE,
  /** `status` of function_calls_total. */
  success: 'success',
  error: 'error'
} as const

/**
 * Values of the `result` label of o11y_metrics_scrapes_total: `rendered` made a new render,
 * `shared` joined a render in progress, `cached` got a render younger than `endpoint.minIntervalMs`.
 */
export const SCRAPE_RESULTS = ['rendered', 'shared', 'cached', 'unauthorized', 'failed'] as const
export type ScrapeResult = typeof SCRAPE_RESULTS[number]

/** Status-code classes (`statusCodes: 'class'`), by the first digit of the code. */
export const STATUS_CLASSES: readonly string[] = Object.freeze(['1xx', '2xx', '3xx', '4xx', '5xx'])

/** Values of the `source` label of o11y_metrics_errors_total. */
export const ERROR_SOURCES = ['label_function', 'metric', 'collector', 'exemplar'] as const
export type ErrorSource = typeof ERROR_SOURCES[number]

/** OpenTelemetry's well-known HTTP methods; anything else is recorded as `_OTHER`. */
export const KNOWN_METHODS = KNOWN_HTTP_METHODS

/** OpenTelemetry's recommended HTTP server duration buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = DEFAULT_LATENCY_BUCKETS

export const DEFAULT_MAX_LABEL_SETS = 2000
export { DEFAULT_METRICS_PATH }
/** Routes left out of the request metrics unless `ignoreRoutes` says otherwise (the metrics path is added). */
export const DEFAULT_IGNORE_ROUTES: readonly string[] = HEALTH_ROUTES
/** @deprecated the old name of DEFAULT_IGNORE_ROUTES. */
export const DEFAULT_EXCLUDED_ROUTES = DEFAULT_IGNORE_ROUTES
export const DEFAULT_SCRAPE_TIMEOUT_MS = 5000
/** 0: scrapes that do not overlap each get a fresh render (see the README for when to raise it). */
export const DEFAULT_MIN_INTERVAL_MS = 0
export const MAX_MIN_INTERVAL_MS = 60_000
/** Samples written between two yields to the event loop while rendering. */
export const RENDER_CHUNK_SAMPLES = 1000

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

export const PLUGIN_NAME = '@o11y/metrics'
/** @o11y/logging's process-wide reader of dropped lines (a function on globalThis; no import between the packages). */
export const LOGGING_DROPPED_HOOK = LOGGING_DROPPED_LINES_READER

// --- OTLP push mode (src/otlp.ts) ----------------------------------------------------------------

/** Export attempts of the OTLP push mode, by `result` (success, failure, skipped). */
export const OTLP_EXPORTS_METRIC = METRIC_NAMES.otlpExportsTotal

/**
 * Names and units under OTLP of the metrics that have an OpenTelemetry semantic-convention (or
 * obvious) name. Every other metric keeps its Prometheus name minus the `_total` suffix of a
 * counter and the unit suffix (`_seconds` -> unit `s`, `_bytes` -> `By`, `_ratio` -> `1`), so an
 * OTLP-ingesting Prometheus that adds suffixes back shows the scrape's name.
 */
export const OTLP_METRIC_NAMES: Readonly<Record<string, { readonly name: string, readonly unit: string }>> = Object.freeze({
  [METRIC_NAMES.requestDuration]: { name: METRIC_HTTP_SERVER_REQUEST_DURATION, unit: 's' },
  [OTEL_METRIC_NAMES.requestDuration]: { name: METRIC_HTTP_SERVER_REQUEST_DURATION, unit: 's' },
  [METRIC_NAMES.requestsTotal]: { name: 'http.server.request.count', unit: '{request}' },
  [METRIC_NAMES.exceptionsTotal]: { name: 'http.server.request.exceptions', unit: '{exception}' },
  [METRIC_NAMES.inFlight]: { name: 'http.server.active_requests', unit: '{request}' },
  [OTEL_METRIC_NAMES.activeRequests]: { name: 'http.server.active_requests', unit: '{request}' },
  [METRIC_NAMES.eventLoopUtilization]: { name: 'nodejs.eventloop.utilization', unit: '1' },
  [RUNTIME_METRIC_NAMES.residentMemory]: { name: 'process.memory.usage', unit: 'By' }
})

/** Attribute names under OTLP of the request metrics' labels (both namings); other labels keep their name. */
export const OTLP_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({
  [LABELS.method]: ATTR_HTTP_REQUEST_METHOD,
  [LABELS.route]: ATTR_HTTP_ROUTE,
  [LABELS.statusCode]: ATTR_HTTP_RESPONSE_STATUS_CODE,
  [LABELS.exception]: ATTR_ERROR_TYPE,
  [OTEL_LABELS.method]: ATTR_HTTP_REQUEST_METHOD,
  [OTEL_LABELS.route]: ATTR_HTTP_ROUTE,
  [OTEL_LABELS.statusCode]: ATTR_HTTP_RESPONSE_STATUS_CODE,
  [OTEL_LABELS.errorType]: ATTR_ERROR_TYPE
})

/** Units taken from a Prometheus name's suffix when the metric has no entry in OTLP_METRIC_NAMES. */
export const OTLP_UNIT_SUFFIXES: ReadonlyArray<readonly [string, string]> = Object.freeze([
  ['_seconds', 's'], ['_bytes', 'By'], ['_ratio', '1']
] as const)

export const OTLP_DEFAULTS = {
  protocol: 'http/protobuf',
  httpEndpoint: 'http://localhost:4318/v1/metrics',
  grpcEndpoint: 'http://localhost:4317',
  httpPath: '/v1/metrics',
  intervalMillis: 60_000,
  timeoutMillis: 30_000,
  shutdownTimeoutMillis: 5000
} as const

export const OTLP_PROTOCOLS = ['http/protobuf', 'grpc'] as const
export type OtlpProtocol = typeof OTLP_PROTOCOLS[number]

export const OTLP_ENV = {
  METRICS_EXPORTER: 'OTEL_METRICS_EXPORTER',
  SDK_DISABLED: 'OTEL_SDK_DISABLED',
  ENDPOINT: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  METRICS_ENDPOINT: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  PROTOCOL: 'OTEL_EXPORTER_OTLP_PROTOCOL',
  METRICS_PROTOCOL: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  INTERVAL: 'OTEL_METRIC_EXPORT_INTERVAL',
  TIMEOUT: 'OTEL_METRIC_EXPORT_TIMEOUT'
} as const

import { o11yMetrics } from './plugin'

export { o11yMetrics, exceptionName } from './plugin'
export { tracked } from './business'
export { negotiate, render } from './exposition'
export type { ExpositionFormat } from './exposition'
export { MetricsError, ERROR_CODES, ERROR_MESSAGES, WARNING_CODES, RETIRED_CODES } from './errors'
export type { ErrorCode, WarningCode } from './errors'
export { clusterMetrics, ruleFor, CLUSTER_METRIC_NAMES, WORKER_LABEL, DEFAULT_CLUSTER_TIMEOUT_MS } from './cluster'
export type { ClusterMetrics, ClusterMetricsOptions, AggregationRule } from './cluster'
export {
  METRIC_NAMES, OTEL_METRIC_NAMES, LABELS, OTEL_LABELS, EXEMPLAR_LABELS, LABEL_VALUES, ERROR_SOURCES, SCRAPE_RESULTS,
  STATUS_CLASSES, DEFAULT_BUCKETS, DEFAULT_MAX_LABEL_SETS, DEFAULT_METRICS_PATH, DEFAULT_IGNORE_ROUTES, DEFAULT_EXCLUDED_ROUTES,
  DEFAULT_MIN_INTERVAL_MS, PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE,
  OTLP_METRIC_NAMES, OTLP_ATTRIBUTES, OTLP_EXPORTS_METRIC
} from './constants'
export { otlpName } from './otlp'
export type { OtlpOptions } from './otlp'
export type {
  O11yMetricsOptions, MetricsApi, MetricsAuth, MetricsEndpointOptions, LabelsFunction, RouteMetricsConfig, IgnoreRoutes, LabelSetCap
} from './types'

export default o11yMetrics

// The `@fastify/*` export shape: `require('@o11y/metrics')` is the plugin itself, so
// `app.register(require('@o11y/metrics'))` works, with `.default`, `.o11yMetrics` (both set by
// fastify-plugin) and every other export above as properties (copied from `exports`, so the
// list is written once). The types above describe the same object; dist/index.mjs
// (scripts/esm-wrapper.cjs) gives ESM importers the plugin as default export.
module.exports = Object.assign(o11yMetrics, exports)

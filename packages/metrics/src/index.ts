import { o11yMetrics } from './plugin'

export { o11yMetrics, exceptionName } from './plugin'
export { tracked } from './business'
export { negotiate, render } from './exposition'
export type { ExpositionFormat } from './exposition'
export { MetricsError, ERROR_CODES } from './errors'
export type { ErrorCode } from './errors'
export {
  METRIC_NAMES, OTEL_METRIC_NAMES, LABELS, OTEL_LABELS, EXEMPLAR_LABELS, LABEL_VALUES, ERROR_SOURCES,
  DEFAULT_BUCKETS, DEFAULT_MAX_LABEL_SETS, DEFAULT_METRICS_PATH, DEFAULT_EXCLUDED_ROUTES,
  PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE
} from './constants'
export type { O11yMetricsOptions, MetricsApi, MetricsAuth, MetricsEndpointOptions, LabelsFunction, RouteMetricsConfig } from './types'

export default o11yMetrics

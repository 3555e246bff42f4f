import { PLUGIN_NAME } from './constants'

/** The one catalogue of errors this package throws. Codes are stable and never reused. */
export const ERROR_CODES = {
  O11Y_ERR_METRICS_OPTIONS: 'the options must be an object',
  O11Y_ERR_METRICS_REGISTRY: 'option `registry` must be a prom-client Registry',
  O11Y_ERR_METRICS_BUCKETS: 'option `buckets` must be a non-empty array of finite, strictly increasing numbers',
  O11Y_ERR_METRICS_MAX_LABEL_SETS: 'option `maxLabelSets` must be an integer from 1 to 1000000',
  O11Y_ERR_METRICS_LABEL_NAMES: 'option `labelNames` must be an array of unique Prometheus label names that are not used by the request metrics',
  O11Y_ERR_METRICS_LABELS_FUNCTION: 'a labels function must be a function, and `labelNames` must be declared for it',
  O11Y_ERR_METRICS_NAMING: "option `naming` must be 'default' or 'otel'",
  O11Y_ERR_METRICS_PREFIX: 'option `prefix` must be a string that makes valid Prometheus metric names',
  O11Y_ERR_METRICS_EXCLUDE_ROUTES: 'option `excludeRoutes` must be an array of route templates (strings starting with "/") or RegExps',
  O11Y_ERR_METRICS_ENDPOINT: 'option `endpoint` must be false or an object with a `path` starting with "/", a `port` from 0 to 65535, a `host` string and a positive `timeoutMs`',
  O11Y_ERR_METRICS_AUTH: "option `endpoint.auth` must be { type: 'bearer', token } or { type: 'basic', username, password } with non-empty strings",
  O11Y_ERR_METRICS_BOOLEAN: 'a switch option (`exemplars`, `runtimeMetrics`) must be a boolean',
  O11Y_ERR_METRICS_ROUTE_CONFIG: 'route option `config.metrics` must be false, true or { labels?: function }',
  O11Y_ERR_METRICS_DEFINITION: 'a metric definition needs a valid `name`, a non-empty `help`, valid `labelNames` and (histograms) valid `buckets`',
  O11Y_ERR_METRICS_REGISTRY_CONFLICT: 'the registry already holds a metric that this plugin registers (is one registry shared by two plugin instances?)',
  O11Y_ERR_METRICS_SHAPE_MISMATCH: 'a metric with this name already exists with a different type, label names or buckets',
  O11Y_ERR_METRICS_TRACK: '`track` and `tracked` need a valid function name and a function'
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export class MetricsError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, detail?: string) {
    super(`${PLUGIN_NAME}: ${ERROR_CODES[code]}${detail !== undefined ? ` (${detail})` : ''}`)
    this.name = 'MetricsError'
    this.code = code
  }
}

export function metricsError (code: ErrorCode, detail?: string): MetricsError {
  return new MetricsError(code, detail)
}

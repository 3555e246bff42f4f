import { ERROR_CODE_PREFIXES } from '@o11y/semconv'
import { PLUGIN_NAME } from './constants'

/**
 * The one catalogue of this package's codes, in the shape every @o11y package uses:
 * `{ KEY: 'O11Y_ERR_METRICS_KEY' }`, warnings included, with what each means in ERROR_MESSAGES
 * (docs/errors.md says how to solve it). Codes are stable and never reused; a retired code stays
 * documented in docs/errors.md. Errors are thrown only while options are validated (registration,
 * route registration, `app.metrics.*` definitions); warnings are given once, never thrown.
 */
export const ERROR_CODES = {
  OPTIONS: 'O11Y_ERR_METRICS_OPTIONS',
  UNKNOWN_OPTION: 'O11Y_ERR_METRICS_UNKNOWN_OPTION',
  REGISTRY: 'O11Y_ERR_METRICS_REGISTRY',
  BUCKETS: 'O11Y_ERR_METRICS_BUCKETS',
  MAX_LABEL_SETS: 'O11Y_ERR_METRICS_MAX_LABEL_SETS',
  LABEL_NAMES: 'O11Y_ERR_METRICS_LABEL_NAMES',
  LABELS_FUNCTION: 'O11Y_ERR_METRICS_LABELS_FUNCTION',
  NAMING: 'O11Y_ERR_METRICS_NAMING',
  STATUS_CODES: 'O11Y_ERR_METRICS_STATUS_CODES',
  PREFIX: 'O11Y_ERR_METRICS_PREFIX',
  IGNORE_ROUTES: 'O11Y_ERR_METRICS_IGNORE_ROUTES',
  ENDPOINT: 'O11Y_ERR_METRICS_ENDPOINT',
  AUTH: 'O11Y_ERR_METRICS_AUTH',
  BOOLEAN: 'O11Y_ERR_METRICS_BOOLEAN',
  ROUTE_CONFIG: 'O11Y_ERR_METRICS_ROUTE_CONFIG',
  DEFINITION: 'O11Y_ERR_METRICS_DEFINITION',
  REGISTRY_CONFLICT: 'O11Y_ERR_METRICS_REGISTRY_CONFLICT',
  SHAPE_MISMATCH: 'O11Y_ERR_METRICS_SHAPE_MISMATCH',
  TRACK: 'O11Y_ERR_METRICS_TRACK',
  OTLP: 'O11Y_ERR_METRICS_OTLP',
  CLUSTER: 'O11Y_ERR_METRICS_CLUSTER',
  // Warnings (WARNING_CODES picks them out):
  /** `excludeRoutes` was used: it is the deprecated alias of `ignoreRoutes`. */
  DEPRECATED_OPTION: 'O11Y_ERR_METRICS_DEPRECATED_OPTION',
  /** A user `ignoreRoutes` function threw for a route; the route is recorded. */
  IGNORE_ROUTES_FAILED: 'O11Y_ERR_METRICS_IGNORE_ROUTES_FAILED',
  /** A request reached a route registered before the plugin, which the plugin never saw. */
  ROUTE_NOT_SEEN: 'O11Y_ERR_METRICS_ROUTE_NOT_SEEN',
  /** An OTEL_* variable of the OTLP push mode is not valid; its default is used. */
  OTLP_ENV: 'O11Y_ERR_METRICS_OTLP_ENV',
  /** Pushing metrics over OTLP failed (collector down, refusing or too slow); counted, warned once. */
  OTLP_EXPORT_FAILED: 'O11Y_ERR_METRICS_OTLP_EXPORT_FAILED',
  /** The final OTLP export did not finish within shutdownTimeoutMillis; close went on without it. */
  OTLP_SHUTDOWN_TIMEOUT: 'O11Y_ERR_METRICS_OTLP_SHUTDOWN_TIMEOUT',
  /** `cluster: true` in a process that is not a node:cluster worker; /metrics answers this process only. */
  CLUSTER_NOT_WORKER: 'O11Y_ERR_METRICS_CLUSTER_NOT_WORKER'
} as const

/** The keys of ERROR_CODES that are warnings (process warnings or log lines, given once, never thrown). */
const WARNING_KEYS = ['DEPRECATED_OPTION', 'IGNORE_ROUTES_FAILED', 'ROUTE_NOT_SEEN', 'OTLP_ENV', 'OTLP_EXPORT_FAILED', 'OTLP_SHUTDOWN_TIMEOUT', 'CLUSTER_NOT_WORKER'] as const
type WarningKey = typeof WARNING_KEYS[number]

/** The warnings among ERROR_CODES, picked from it (the same strings, defined once). */
export const WARNING_CODES: { readonly [K in WarningKey]: typeof ERROR_CODES[K] } =
  Object.freeze(Object.fromEntries(WARNING_KEYS.map((key) => [key, ERROR_CODES[key]])) as { [K in WarningKey]: typeof ERROR_CODES[K] })

/** Codes no longer raised; listed so that nobody reuses them. */
export const RETIRED_CODES = {
  /** Replaced by O11Y_ERR_METRICS_IGNORE_ROUTES when `excludeRoutes` became `ignoreRoutes`. */
  EXCLUDE_ROUTES: 'O11Y_ERR_METRICS_EXCLUDE_ROUTES'
} as const

export type ErrorKey = keyof typeof ERROR_CODES
export type ErrorCode = typeof ERROR_CODES[ErrorKey]
export type WarningCode = typeof WARNING_CODES[keyof typeof WARNING_CODES]

export const ERROR_MESSAGES: Readonly<Record<ErrorKey, string>> = {
  OPTIONS: 'the options must be an object',
  UNKNOWN_OPTION: 'unknown option',
  REGISTRY: 'option `registry` must be a prom-client Registry',
  BUCKETS: 'option `buckets` must be a non-empty array of finite, strictly increasing numbers',
  MAX_LABEL_SETS: 'option `maxLabelSets` must be an integer from 1 to 1000000',
  LABEL_NAMES: 'option `labelNames` must be an array of unique Prometheus label names that are not used by the request metrics',
  LABELS_FUNCTION: 'a labels function must be a function, and `labelNames` must be declared for it',
  NAMING: "option `naming` must be 'default' or 'otel'",
  STATUS_CODES: "option `statusCodes` must be 'exact' or 'class'",
  PREFIX: 'option `prefix` must be a string that makes valid Prometheus metric names',
  IGNORE_ROUTES: 'option `ignoreRoutes` must be an array of route templates (strings starting with "/") or RegExps, or a function (route, method) => boolean',
  ENDPOINT: 'option `endpoint` must be false or an object with a `path` starting with "/", a `port` from 0 to 65535, a `host` string, a positive `timeoutMs` and a `minIntervalMs` from 0 to 60000',
  AUTH: "option `endpoint.auth` must be { type: 'bearer', token } or { type: 'basic', username, password } with non-empty strings",
  BOOLEAN: 'a switch option (`exemplars`, `runtimeMetrics`, `cluster`) must be a boolean',
  ROUTE_CONFIG: 'route option `config.metrics` must be false, true or { labels?: function | { name: value }, buckets?: number[] }',
  DEFINITION: 'a metric definition needs a valid `name`, a non-empty `help`, valid `labelNames`, (histograms) valid `buckets` and, if given, an integer `maxLabelSets` from 1 to 1000000',
  REGISTRY_CONFLICT: 'the registry already holds a metric that this plugin registers (is one registry shared by two plugin instances?)',
  SHAPE_MISMATCH: 'a metric with this name already exists with a different type, label names or buckets',
  CLUSTER: '`clusterMetrics()` runs in the cluster primary and takes { timeoutMs, rules, port, host, path, auth } with valid values',
  TRACK: '`track` and `tracked` need a valid function name and a function',
  OTLP: "option `otlp` must be false, true or { endpoint (http(s) URL), protocol ('http/protobuf' | 'grpc'), intervalMillis, timeoutMillis (<= intervalMillis), shutdownTimeoutMillis (positive integers) }",
  DEPRECATED_OPTION: 'warning: `excludeRoutes` is the deprecated alias of `ignoreRoutes`',
  IGNORE_ROUTES_FAILED: 'warning: the ignoreRoutes function threw for a route; the route is recorded',
  ROUTE_NOT_SEEN: 'warning: a route registered before the plugin is not recorded',
  OTLP_ENV: 'warning: an OTEL_* variable of the OTLP push mode is not valid; its default is used',
  OTLP_EXPORT_FAILED: 'warning: pushing metrics over OTLP failed; counted',
  OTLP_SHUTDOWN_TIMEOUT: 'warning: the final OTLP export did not finish within shutdownTimeoutMillis',
  CLUSTER_NOT_WORKER: 'warning: `cluster: true` outside a node:cluster worker; /metrics answers this process only'
}

const CODE_PREFIX = ERROR_CODE_PREFIXES.metrics

export class MetricsError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, detail?: string) {
    super(`${PLUGIN_NAME}: ${ERROR_MESSAGES[code.slice(CODE_PREFIX.length) as ErrorKey]}${detail !== undefined ? ` (${detail})` : ''}`)
    this.name = 'MetricsError'
    this.code = code
  }
}

export function metricsError (key: ErrorKey, detail?: string): MetricsError {
  return new MetricsError(ERROR_CODES[key], detail)
}

const warned = new Set<string>()

/**
 * A process warning (type `O11yMetricsWarning`, or `DeprecationWarning` for deprecations) given
 * once per process and key, so that many Fastify instances in one process do not repeat it.
 */
export function warnOnce (code: WarningCode, key: string, message: string, deprecation = false): void {
  const id = `${code}\u0000${key}`
  if (warned.has(id)) return
  warned.add(id)
  process.emitWarning(`${PLUGIN_NAME}: ${message}`, { type: deprecation ? 'DeprecationWarning' : 'O11yMetricsWarning', code })
}

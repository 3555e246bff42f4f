import { Registry } from 'prom-client'
import {
  DEFAULT_BUCKETS, DEFAULT_IGNORE_ROUTES, DEFAULT_MAX_LABEL_SETS, DEFAULT_METRICS_PATH, DEFAULT_MIN_INTERVAL_MS,
  DEFAULT_SCRAPE_TIMEOUT_MS, LABELS, MAX_MIN_INTERVAL_MS, OTEL_LABELS
} from './constants'
import { metricsError, warnOnce, WARNING_CODES, type ErrorKey } from './errors'
import type { LabelsFunction, MetricsAuth, O11yMetricsOptions } from './types'

// Defaults live in constants.ts (exported, documented); this module validates once, at registration.

export interface ResolvedEndpoint {
  path: string
  auth: MetricsAuth | null
  port: number | null
  host: string
  timeoutMs: number
  minIntervalMs: number
}

/** Route exclusion, resolved: exact templates, patterns, or the user's function. */
export interface ResolvedIgnore {
  exact: Set<string>
  patterns: RegExp[]
  fn: ((route: string, method: string) => boolean) | null
}

export interface ResolvedOptions {
  registry: Registry
  ownRegistry: boolean
  prefix: string
  naming: 'default' | 'otel'
  statusCodes: 'exact' | 'class'
  buckets: number[]
  maxLabelSets: number
  labelNames: string[]
  labels: LabelsFunction | null
  ignore: ResolvedIgnore
  exemplars: boolean
  runtimeMetrics: boolean
  endpoint: ResolvedEndpoint | null
  /** node:cluster worker mode: /metrics answers the primary's aggregate (cluster.ts). */
  cluster: boolean
}

const OPTION_KEYS: ReadonlyArray<keyof O11yMetricsOptions> = [
  'registry', 'prefix', 'naming', 'statusCodes', 'buckets', 'maxLabelSets', 'labelNames', 'labels',
  'ignoreRoutes', 'excludeRoutes', 'exemplars', 'runtimeMetrics', 'cluster', 'endpoint', 'otlp'
]
const ENDPOINT_KEYS = ['path', 'auth', 'port', 'host', 'timeoutMs', 'minIntervalMs'] as const
const AUTH_KEYS = { bearer: ['type', 'token'], basic: ['type', 'username', 'password'] } as const

export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/
export const RESERVED_LABELS: ReadonlySet<string> = new Set<string>([...Object.values(LABELS), ...Object.values(OTEL_LABELS), 'le', 'quantile'])

export function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Rejects any key not in `known`: a typo must not be ignored silently. */
export function rejectUnknownKeys (value: Record<string, unknown>, known: readonly string[], where: string, code: ErrorKey = 'UNKNOWN_OPTION'): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw metricsError(code, `${where}${JSON.stringify(key)}; known: ${known.join(', ')}`)
  }
}

/** Finite, strictly increasing, non-empty: the rule for every bucket list. */
export function validBuckets (b: unknown): b is number[] {
  return Array.isArray(b) && b.length > 0 && b.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > (b[i - 1] as number)))
}

export function validCap (v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1_000_000
}

function bool (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw metricsError('BOOLEAN', `${name}: ${typeof value}`)
  return value
}

function isRegistry (v: unknown): v is Registry {
  if (v instanceof Registry) return true
  // A second copy of prom-client (another version in node_modules) is fine as long as it quacks.
  return isObject(v) && typeof v.registerMetric === 'function' && typeof v.getMetricsAsArray === 'function' && typeof v.getSingleMetric === 'function'
}

/** Validates once, at registration; every problem is a coded error naming the option. */
export function resolveOptions (input: unknown): ResolvedOptions {
  if (input === undefined || input === null) input = {}
  if (!isObject(input)) throw metricsError('OPTIONS', `got ${Array.isArray(input) ? 'an array' : typeof input}`)
  rejectUnknownKeys(input, OPTION_KEYS, '')
  const o = input as O11yMetricsOptions & Record<string, unknown>

  if (o.registry !== undefined && !isRegistry(o.registry)) throw metricsError('REGISTRY')

  const prefix = o.prefix ?? ''
  if (typeof prefix !== 'string' || !METRIC_PREFIX.test(prefix)) throw metricsError('PREFIX', `got ${JSON.stringify(prefix)}`)

  const naming = o.naming ?? 'default'
  if (naming !== 'default' && naming !== 'otel') throw metricsError('NAMING', `got ${JSON.stringify(naming)}`)

  const statusCodes = o.statusCodes ?? 'exact'
  if (statusCodes !== 'exact' && statusCodes !== 'class') throw metricsError('STATUS_CODES', `got ${JSON.stringify(statusCodes)}`)

  let buckets = [...DEFAULT_BUCKETS]
  if (o.buckets !== undefined) {
    if (!validBuckets(o.buckets)) throw metricsError('BUCKETS', `got ${JSON.stringify(o.buckets)}`)
    buckets = [...o.buckets]
  }

  const maxLabelSets = o.maxLabelSets ?? DEFAULT_MAX_LABEL_SETS
  if (!validCap(maxLabelSets)) throw metricsError('MAX_LABEL_SETS', `got ${String(maxLabelSets)}`)

  const labelNames = o.labelNames ?? []
  if (!Array.isArray(labelNames) || new Set(labelNames).size !== labelNames.length ||
    !labelNames.every((n) => typeof n === 'string' && LABEL_NAME.test(n) && !n.startsWith('__') && !RESERVED_LABELS.has(n))) {
    throw metricsError('LABEL_NAMES', `got ${JSON.stringify(labelNames)}`)
  }
  const labels = o.labels ?? null
  if (labels !== null && typeof labels !== 'function') throw metricsError('LABELS_FUNCTION', 'option `labels` is not a function')
  if (labels !== null && labelNames.length === 0) throw metricsError('LABELS_FUNCTION', 'option `labels` is set but `labelNames` is empty')

  const exemplars = bool(o.exemplars, 'exemplars', true)
  const runtimeMetrics = bool(o.runtimeMetrics, 'runtimeMetrics', true)
  const clusterMode = bool(o.cluster, 'cluster', false)

  let endpoint: ResolvedEndpoint | null = null
  if (o.endpoint !== false) {
    const e = o.endpoint ?? {}
    if (!isObject(e)) throw metricsError('ENDPOINT', `got ${typeof e}`)
    rejectUnknownKeys(e, ENDPOINT_KEYS, 'endpoint.')
    const path = e.path ?? DEFAULT_METRICS_PATH
    if (typeof path !== 'string' || !path.startsWith('/')) throw metricsError('ENDPOINT', `endpoint.path ${JSON.stringify(path)}`)
    const port = e.port ?? null
    if (port !== null && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)) throw metricsError('ENDPOINT', `endpoint.port ${String(port)}`)
    const host = e.host ?? '0.0.0.0'
    if (typeof host !== 'string' || host === '') throw metricsError('ENDPOINT', `endpoint.host ${String(host)}`)
    const timeoutMs = e.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) throw metricsError('ENDPOINT', `endpoint.timeoutMs ${String(timeoutMs)}`)
    const minIntervalMs = e.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS
    if (typeof minIntervalMs !== 'number' || !Number.isFinite(minIntervalMs) || minIntervalMs < 0 || minIntervalMs > MAX_MIN_INTERVAL_MS) {
      throw metricsError('ENDPOINT', `endpoint.minIntervalMs ${String(minIntervalMs)}`)
    }
    endpoint = { path, auth: resolveAuth(e.auth), port, host, timeoutMs, minIntervalMs }
  }

  if (o.excludeRoutes !== undefined) {
    if (o.ignoreRoutes !== undefined) throw metricsError('IGNORE_ROUTES', 'give `ignoreRoutes` only; `excludeRoutes` is its deprecated alias')
    warnOnce(WARNING_CODES.DEPRECATED_OPTION, 'excludeRoutes', 'option `excludeRoutes` is deprecated and will be removed in the next minor version; use `ignoreRoutes` (the same values)', true)
  }
  const ignore = o.ignoreRoutes ?? o.excludeRoutes ?? [...(endpoint !== null ? [endpoint.path] : []), ...DEFAULT_IGNORE_ROUTES]

  return {
    registry: o.registry ?? new Registry(),
    ownRegistry: o.registry === undefined,
    prefix,
    naming,
    statusCodes,
    buckets,
    maxLabelSets,
    labelNames: [...labelNames],
    labels,
    ignore: resolveIgnore(ignore),
    exemplars,
    runtimeMetrics,
    endpoint,
    cluster: clusterMode
  }
}

function resolveIgnore (ignore: unknown): ResolvedIgnore {
  if (typeof ignore === 'function') return { exact: new Set(), patterns: [], fn: ignore as ResolvedIgnore['fn'] }
  if (!Array.isArray(ignore) || !ignore.every((r) => (typeof r === 'string' && r.startsWith('/')) || r instanceof RegExp)) {
    throw metricsError('IGNORE_ROUTES', `got ${String(ignore)}`)
  }
  return {
    exact: new Set(ignore.filter((r): r is string => typeof r === 'string')),
    patterns: ignore.filter((r): r is RegExp => r instanceof RegExp),
    fn: null
  }
}

function resolveAuth (auth: unknown): MetricsAuth | null {
  if (auth === undefined || auth === null) return null
  if (!isObject(auth)) throw metricsError('AUTH', `got ${typeof auth}`)
  const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0
  if (auth.type === 'bearer' && nonEmpty(auth.token)) {
    rejectUnknownKeys(auth, AUTH_KEYS.bearer, 'endpoint.auth.')
    return { type: 'bearer', token: auth.token }
  }
  if (auth.type === 'basic' && nonEmpty(auth.username) && nonEmpty(auth.password)) {
    rejectUnknownKeys(auth, AUTH_KEYS.basic, 'endpoint.auth.')
    if (auth.username.includes(':')) throw metricsError('AUTH', 'a basic-auth username cannot contain ":"')
    return { type: 'basic', username: auth.username, password: auth.password }
  }
  throw metricsError('AUTH', `type ${JSON.stringify(auth.type)}`)
}

import { Registry } from 'prom-client'
import { DEFAULT_BUCKETS, DEFAULT_EXCLUDED_ROUTES, DEFAULT_MAX_LABEL_SETS, DEFAULT_METRICS_PATH, DEFAULT_SCRAPE_TIMEOUT_MS, LABELS, OTEL_LABELS } from './constants'
import { metricsError } from './errors'
import type { LabelsFunction, MetricsAuth, O11yMetricsOptions } from './types'

export interface ResolvedEndpoint {
  path: string
  auth: MetricsAuth | null
  port: number | null
  host: string
  timeoutMs: number
}

export interface ResolvedOptions {
  registry: Registry
  ownRegistry: boolean
  prefix: string
  naming: 'default' | 'otel'
  buckets: number[]
  maxLabelSets: number
  labelNames: string[]
  labels: LabelsFunction | null
  excludeExact: Set<string>
  excludePatterns: RegExp[]
  exemplars: boolean
  runtimeMetrics: boolean
  endpoint: ResolvedEndpoint | null
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/
const RESERVED_LABELS = new Set<string>([...Object.values(LABELS), ...Object.values(OTEL_LABELS), 'le', 'quantile'])

function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function bool (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw metricsError('O11Y_ERR_METRICS_BOOLEAN', `${name}: ${typeof value}`)
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
  if (!isObject(input)) throw metricsError('O11Y_ERR_METRICS_OPTIONS', `got ${Array.isArray(input) ? 'an array' : typeof input}`)
  const o = input as O11yMetricsOptions & Record<string, unknown>

  if (o.registry !== undefined && !isRegistry(o.registry)) throw metricsError('O11Y_ERR_METRICS_REGISTRY')

  const prefix = o.prefix ?? ''
  if (typeof prefix !== 'string' || !METRIC_PREFIX.test(prefix)) throw metricsError('O11Y_ERR_METRICS_PREFIX', `got ${JSON.stringify(prefix)}`)

  const naming = o.naming ?? 'default'
  if (naming !== 'default' && naming !== 'otel') throw metricsError('O11Y_ERR_METRICS_NAMING', `got ${JSON.stringify(naming)}`)

  let buckets = [...DEFAULT_BUCKETS]
  if (o.buckets !== undefined) {
    const b = o.buckets as unknown
    if (!Array.isArray(b) || b.length === 0 || !b.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > (b[i - 1] as number)))) {
      throw metricsError('O11Y_ERR_METRICS_BUCKETS', `got ${JSON.stringify(b)}`)
    }
    buckets = [...b] as number[]
  }

  const maxLabelSets = o.maxLabelSets ?? DEFAULT_MAX_LABEL_SETS
  if (typeof maxLabelSets !== 'number' || !Number.isInteger(maxLabelSets) || maxLabelSets < 1 || maxLabelSets > 1_000_000) {
    throw metricsError('O11Y_ERR_METRICS_MAX_LABEL_SETS', `got ${String(maxLabelSets)}`)
  }

  const labelNames = o.labelNames ?? []
  if (!Array.isArray(labelNames) || new Set(labelNames).size !== labelNames.length ||
    !labelNames.every((n) => typeof n === 'string' && LABEL_NAME.test(n) && !n.startsWith('__') && !RESERVED_LABELS.has(n))) {
    throw metricsError('O11Y_ERR_METRICS_LABEL_NAMES', `got ${JSON.stringify(labelNames)}`)
  }
  const labels = o.labels ?? null
  if (labels !== null && typeof labels !== 'function') throw metricsError('O11Y_ERR_METRICS_LABELS_FUNCTION', 'option `labels` is not a function')
  if (labels !== null && labelNames.length === 0) throw metricsError('O11Y_ERR_METRICS_LABELS_FUNCTION', 'option `labels` is set but `labelNames` is empty')

  const exemplars = bool(o.exemplars, 'exemplars', true)
  const runtimeMetrics = bool(o.runtimeMetrics, 'runtimeMetrics', true)

  let endpoint: ResolvedEndpoint | null = null
  if (o.endpoint !== false) {
    const e = o.endpoint ?? {}
    if (!isObject(e)) throw metricsError('O11Y_ERR_METRICS_ENDPOINT', `got ${typeof e}`)
    const path = e.path ?? DEFAULT_METRICS_PATH
    if (typeof path !== 'string' || !path.startsWith('/')) throw metricsError('O11Y_ERR_METRICS_ENDPOINT', `endpoint.path ${JSON.stringify(path)}`)
    const port = e.port ?? null
    if (port !== null && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)) throw metricsError('O11Y_ERR_METRICS_ENDPOINT', `endpoint.port ${String(port)}`)
    const host = e.host ?? '0.0.0.0'
    if (typeof host !== 'string' || host === '') throw metricsError('O11Y_ERR_METRICS_ENDPOINT', `endpoint.host ${String(host)}`)
    const timeoutMs = e.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) throw metricsError('O11Y_ERR_METRICS_ENDPOINT', `endpoint.timeoutMs ${String(timeoutMs)}`)
    endpoint = { path, auth: resolveAuth(e.auth), port, host, timeoutMs }
  }

  const exclude = o.excludeRoutes ?? [...(endpoint !== null ? [endpoint.path] : []), ...DEFAULT_EXCLUDED_ROUTES]
  if (!Array.isArray(exclude) || !exclude.every((r) => (typeof r === 'string' && r.startsWith('/')) || r instanceof RegExp)) {
    throw metricsError('O11Y_ERR_METRICS_EXCLUDE_ROUTES', `got ${String(exclude)}`)
  }

  return {
    registry: o.registry ?? new Registry(),
    ownRegistry: o.registry === undefined,
    prefix,
    naming,
    buckets,
    maxLabelSets,
    labelNames: [...labelNames],
    labels,
    excludeExact: new Set(exclude.filter((r): r is string => typeof r === 'string')),
    excludePatterns: exclude.filter((r): r is RegExp => r instanceof RegExp),
    exemplars,
    runtimeMetrics,
    endpoint
  }
}

function resolveAuth (auth: unknown): MetricsAuth | null {
  if (auth === undefined || auth === null) return null
  if (!isObject(auth)) throw metricsError('O11Y_ERR_METRICS_AUTH', `got ${typeof auth}`)
  const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0
  if (auth.type === 'bearer' && nonEmpty(auth.token)) return { type: 'bearer', token: auth.token }
  if (auth.type === 'basic' && nonEmpty(auth.username) && nonEmpty(auth.password)) {
    if (auth.username.includes(':')) throw metricsError('O11Y_ERR_METRICS_AUTH', 'a basic-auth username cannot contain ":"')
    return { type: 'basic', username: auth.username, password: auth.password }
  }
  throw metricsError('O11Y_ERR_METRICS_AUTH', `type ${JSON.stringify(auth.type)}`)
}

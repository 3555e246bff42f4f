/**
 * OTLP push mode: the registry's metrics (request, runtime, business) exported over OTLP at an
 * interval, beside (or instead of) the scrape endpoint.
 *
 * Design: nothing is recorded twice. A MetricProducer converts the prom-client registry's
 * `getMetricsAsJSON()` to OpenTelemetry metric data at each collection, and the metrics SDK's
 * PeriodicExportingMetricReader hands it to the OTLP exporter (http/protobuf or gRPC). The hot
 * path is untouched; the cost is one registry read per interval. The SDK packages are loaded only
 * when push mode is on.
 */
import type { MetricData, MetricProducer, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics'
import type { Registry } from 'prom-client'
import { Counter } from 'prom-client'
import { HISTOGRAM_SERIES } from '@o11y/semconv'
import { ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions'
import {
  OTLP_ATTRIBUTES, OTLP_DEFAULTS, OTLP_ENV, OTLP_EXPORTS_METRIC, OTLP_METRIC_NAMES, OTLP_PROTOCOLS, OTLP_UNIT_SUFFIXES,
  PLUGIN_NAME, type OtlpProtocol
} from './constants'
import { metricsError } from './errors'

/** Option `otlp` of the plugin. */
export interface OtlpOptions {
  /** Full URL of the metrics endpoint; overrides OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT. */
  endpoint?: string
  /** Overrides OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL. Default `http/protobuf`. */
  protocol?: OtlpProtocol
  /** Time between exports; overrides OTEL_METRIC_EXPORT_INTERVAL. Default 60000. */
  intervalMillis?: number
  /** Time one export may take; overrides OTEL_METRIC_EXPORT_TIMEOUT. Default 30000 (at most the interval). */
  timeoutMillis?: number
  /** Bound of the final export on `app.close()`. Default 5000. */
  shutdownTimeoutMillis?: number
}

export interface ResolvedOtlp {
  endpoint: string
  protocol: OtlpProtocol
  intervalMillis: number
  timeoutMillis: number
  shutdownTimeoutMillis: number
}

export interface OtlpWarning { code: string, message: string }

type Env = Record<string, string | undefined>

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const isHttpUrl = (value: unknown): value is string => {
  if (typeof value !== 'string') return false
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    // o11y-gate-ignore error-observed: not a URL is the answer; the caller raises or warns
    return false
  }
}
const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0

/**
 * Push mode's settings from the `otlp` option and the standard OTEL_* variables (options win), or
 * null when push mode is off. A bad option throws O11Y_ERR_METRICS_OTLP; a bad variable is
 * reported in `warnings` (O11Y_ERR_METRICS_OTLP_ENV) and its default used, so the app starts.
 */
export function resolveOtlp (option: unknown, env: Env, warnings: OtlpWarning[]): ResolvedOtlp | null {
  if (option === false) return null
  if (option !== undefined && option !== true && !isObject(option)) throw metricsError('OTLP', `got ${typeof option}`)
  const o: Record<string, unknown> = isObject(option) ? option : {}
  const known = new Set(['endpoint', 'protocol', 'intervalMillis', 'timeoutMillis', 'shutdownTimeoutMillis'])
  for (const key of Object.keys(o)) if (!known.has(key)) throw metricsError('OTLP', `unknown option otlp.${key}`)
  if (o.endpoint !== undefined && !isHttpUrl(o.endpoint)) throw metricsError('OTLP', `otlp.endpoint ${JSON.stringify(o.endpoint)}`)
  if (o.protocol !== undefined && !(OTLP_PROTOCOLS as readonly unknown[]).includes(o.protocol)) throw metricsError('OTLP', `otlp.protocol ${JSON.stringify(o.protocol)}`)
  for (const key of ['intervalMillis', 'timeoutMillis', 'shutdownTimeoutMillis'] as const) {
    if (o[key] !== undefined && !positiveInt(o[key])) throw metricsError('OTLP', `otlp.${key} ${String(o[key])}`)
  }
  if (positiveInt(o.intervalMillis) && positiveInt(o.timeoutMillis) && o.timeoutMillis > o.intervalMillis) {
    throw metricsError('OTLP', `otlp.timeoutMillis ${o.timeoutMillis} exceeds otlp.intervalMillis ${o.intervalMillis}`)
  }

  const get = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const bad = (name: string, value: string, fallback: string, expected: string): void => {
    warnings.push({ code: 'O11Y_ERR_METRICS_OTLP_ENV', message: `${PLUGIN_NAME}: ${name}=${JSON.stringify(value)} is not valid (expected ${expected}); using ${fallback}` })
  }

  if (option === undefined) {
    // Off unless the environment asks for it: OTEL_METRICS_EXPORTER=otlp (a list may name others).
    if (get(OTLP_ENV.SDK_DISABLED)?.toLowerCase() === 'true') return null
    const exporters = (get(OTLP_ENV.METRICS_EXPORTER) ?? '').toLowerCase().split(',').map((s) => s.trim())
    if (!exporters.includes('otlp')) return null
  }

  let protocol: OtlpProtocol = OTLP_DEFAULTS.protocol
  if (o.protocol !== undefined) protocol = o.protocol as OtlpProtocol
  else {
    const name = get(OTLP_ENV.METRICS_PROTOCOL) !== undefined ? OTLP_ENV.METRICS_PROTOCOL : OTLP_ENV.PROTOCOL
    const raw = get(name)
    if (raw !== undefined) {
      if ((OTLP_PROTOCOLS as readonly string[]).includes(raw)) protocol = raw as OtlpProtocol
      else bad(name, raw, protocol, OTLP_PROTOCOLS.join(' or '))
    }
  }

  let endpoint: string = protocol === 'grpc' ? OTLP_DEFAULTS.grpcEndpoint : OTLP_DEFAULTS.httpEndpoint
  if (o.endpoint !== undefined) endpoint = o.endpoint as string
  else {
    const signal = get(OTLP_ENV.METRICS_ENDPOINT)
    const base = get(OTLP_ENV.ENDPOINT)
    if (signal !== undefined) {
      if (isHttpUrl(signal)) endpoint = signal
      else bad(OTLP_ENV.METRICS_ENDPOINT, signal, endpoint, 'an http:// or https:// URL')
    } else if (base !== undefined) {
      if (isHttpUrl(base)) endpoint = protocol === 'grpc' ? base : base.replace(/\/+$/, '') + OTLP_DEFAULTS.httpPath
      else bad(OTLP_ENV.ENDPOINT, base, endpoint, 'an http:// or https:// URL')
    }
  }

  const fromEnv = (name: string, fallback: number): number => {
    const raw = get(name)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (positiveInt(value)) return value
    bad(name, raw, String(fallback), 'a positive integer of milliseconds')
    return fallback
  }
  const intervalMillis = positiveInt(o.intervalMillis) ? o.intervalMillis : fromEnv(OTLP_ENV.INTERVAL, OTLP_DEFAULTS.intervalMillis)
  // The SDK's rule: an export never outlasts the interval.
  const timeoutMillis = Math.min(positiveInt(o.timeoutMillis) ? o.timeoutMillis : fromEnv(OTLP_ENV.TIMEOUT, OTLP_DEFAULTS.timeoutMillis), intervalMillis)
  const shutdownTimeoutMillis = positiveInt(o.shutdownTimeoutMillis) ? o.shutdownTimeoutMillis : OTLP_DEFAULTS.shutdownTimeoutMillis
  return { endpoint, protocol, intervalMillis, timeoutMillis, shutdownTimeoutMillis }
}

// --- conversion ------------------------------------------------------------------------------

interface JsonSample { labels: Record<string, string | number>, value: number, metricName?: string }
interface JsonMetric { name: string, help: string, type: string, values: JsonSample[] }

/** The OTLP name and unit of a Prometheus metric (see OTLP_METRIC_NAMES and the README). */
export function otlpName (promName: string, type: string): { name: string, unit: string } {
  const known = OTLP_METRIC_NAMES[promName]
  if (known !== undefined) return { name: known.name, unit: known.unit }
  const name = type === 'counter' && promName.endsWith('_total') ? promName.slice(0, -'_total'.length) : promName
  for (const [suffix, unit] of OTLP_UNIT_SUFFIXES) {
    if (name.endsWith(suffix) && name.length > suffix.length) return { name: name.slice(0, -suffix.length), unit }
  }
  return { name, unit: '' }
}

type Attributes = Record<string, string | number>

function attributesOf (labels: Record<string, string | number>, mapped: boolean): Attributes {
  const out: Attributes = {}
  for (const key of Object.keys(labels)) {
    const value = labels[key] as string | number
    if (!mapped) {
      out[key] = value
      continue
    }
    const name = OTLP_ATTRIBUTES[key] ?? key
    // The semantic conventions type the status code as an int.
    out[name] = name === ATTR_HTTP_RESPONSE_STATUS_CODE && /^\d+$/.test(String(value)) ? Number(value) : value
  }
  return out
}

type HrTime = [number, number]
const hrNow = (): HrTime => {
  const ms = Date.now()
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6]
}

/** DataPointType and ValueType of the SDK, as numbers so this module needs no SDK import. */
const HISTOGRAM = 0
const GAUGE = 2
const SUM = 3
const DOUBLE = 1
const CUMULATIVE = 1

/**
 * Convert prom-client's JSON (one collection of a registry) into OpenTelemetry metric data:
 * counter -> monotonic cumulative Sum, gauge -> Gauge, histogram -> cumulative explicit-bucket
 * Histogram. Summaries have no place in the SDK's data model and are left out. Two Prometheus
 * metrics with the same OTLP name (never the case for the plugin's own) are merged.
 */
export function toMetricData (metrics: JsonMetric[], startTime: HrTime, endTime: HrTime = hrNow()): MetricData[] {
  const out: MetricData[] = []
  for (const m of metrics) {
    const { name, unit } = otlpName(m.name, m.type)
    const mapped = OTLP_METRIC_NAMES[m.name] !== undefined
    const descriptor = { name, description: m.help, unit, valueType: DOUBLE }
    const point = <T>(labels: Record<string, string | number>, value: T): { startTime: HrTime, endTime: HrTime, attributes: Attributes, value: T } =>
      ({ startTime, endTime, attributes: attributesOf(labels, mapped), value })
    if (m.type === 'counter') {
      out.push({ descriptor, aggregationTemporality: CUMULATIVE, dataPointType: SUM, isMonotonic: true, dataPoints: m.values.map((v) => point(v.labels, v.value)) } as unknown as MetricData)
    } else if (m.type === 'gauge') {
      out.push({ descriptor, aggregationTemporality: CUMULATIVE, dataPointType: GAUGE, dataPoints: m.values.map((v) => point(v.labels, v.value)) } as unknown as MetricData)
    } else if (m.type === 'histogram') {
      out.push({ descriptor, aggregationTemporality: CUMULATIVE, dataPointType: HISTOGRAM, dataPoints: histogramPoints(m).map((h) => point(h.labels, h.value)) } as unknown as MetricData)
    }
  }
  return out
}

interface HistogramValue { buckets: { boundaries: number[], counts: number[] }, sum: number, count: number }

/** Group `_bucket` (cumulative, with `le`), `_sum` and `_count` samples by label set. */
function histogramPoints (m: JsonMetric): Array<{ labels: Record<string, string | number>, value: HistogramValue }> {
  const groups = new Map<string, { labels: Record<string, string | number>, le: Array<[number, number]>, sum: number, count: number }>()
  for (const s of m.values) {
    const { le, ...labels } = s.labels
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    let g = groups.get(key)
    if (g === undefined) {
      g = { labels, le: [], sum: 0, count: 0 }
      groups.set(key, g)
    }
    const metricName = s.metricName ?? ''
    if (metricName.endsWith(HISTOGRAM_SERIES.bucket) && le !== undefined) g.le.push([le === '+Inf' ? Infinity : Number(le), s.value])
    else if (metricName.endsWith(HISTOGRAM_SERIES.sum)) g.sum = s.value
    else if (metricName.endsWith(HISTOGRAM_SERIES.count)) g.count = s.value
  }
  const out: Array<{ labels: Record<string, string | number>, value: HistogramValue }> = []
  for (const g of groups.values()) {
    g.le.sort((a, b) => a[0] - b[0])
    const boundaries: number[] = []
    const counts: number[] = []
    let previous = 0
    for (const [bound, cumulative] of g.le) {
      if (bound !== Infinity) boundaries.push(bound)
      counts.push(Math.max(0, cumulative - previous))
      previous = cumulative
    }
    // prom-client always has +Inf; without it, the rest of the count goes to an overflow bucket.
    if (counts.length === boundaries.length) counts.push(Math.max(0, g.count - previous))
    out.push({ labels: g.labels, value: { buckets: { boundaries, counts }, sum: g.sum, count: g.count } })
  }
  return out
}

// --- the push pipeline -----------------------------------------------------------------------

export interface OtlpPushDeps {
  registry: Registry
  /** Called for every failed export; the plugin warns once with a code. */
  onExportFailure: (err: unknown) => void
  /** A collection of the registry failed (a throwing collect callback). */
  onCollectError: (err: unknown) => void
  env?: Env
}

export interface OtlpPush {
  readonly config: ResolvedOtlp
  /** Final export and stop, bounded by shutdownTimeoutMillis; resolves false when the bound was hit. */
  shutdown (): Promise<boolean>
  /** Export attempts by result. */
  stats (): { success: number, failure: number, skipped: number }
}

/**
 * Start exporting `registry` over OTLP. Loads the SDK on first use. At most one export is in
 * flight: while the collector hangs, new intervals are skipped (counted), so nothing queues up.
 */
export function startOtlpPush (config: ResolvedOtlp, deps: OtlpPushDeps): OtlpPush {
  // Loaded here, not at the top: an app without push mode never loads the SDK. `require` keeps the
  // CommonJS copies every other CommonJS consumer shares.
  const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics')
  const resources = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources')
  const inner: PushMetricExporter = config.protocol === 'grpc'
    ? new (require('@opentelemetry/exporter-metrics-otlp-grpc') as typeof import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter({ url: config.endpoint, timeoutMillis: config.timeoutMillis })
    : new (require('@opentelemetry/exporter-metrics-otlp-proto') as typeof import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter({ url: config.endpoint, timeoutMillis: config.timeoutMillis, concurrencyLimit: 1 })

  const registry = deps.registry
  const stats = { success: 0, failure: 0, skipped: 0 }
  const exportsTotal = new Counter({
    name: OTLP_EXPORTS_METRIC,
    help: 'Export attempts of the OTLP metrics push mode, by result (success, failure, skipped while an export is in flight).',
    labelNames: ['result'],
    registers: []
  })
  for (const r of ['success', 'failure', 'skipped'] as const) exportsTotal.inc({ result: r }, 0)
  if (registry.getSingleMetric(OTLP_EXPORTS_METRIC) === undefined) registry.registerMetric(exportsTotal)
  const count = (result: 'success' | 'failure' | 'skipped'): void => {
    stats[result]++
    exportsTotal.inc({ result })
  }

  // One export at a time. The exporter gives up after timeoutMillis; should its callback never
  // come, the slot is taken back after twice that.
  let busySince = 0
  const exporter: PushMetricExporter = {
    export (metrics, done) {
      const now = Date.now()
      if (busySince !== 0 && now - busySince < 2 * config.timeoutMillis) {
        count('skipped')
        done({ code: 1, error: new Error('previous OTLP metrics export still in flight') })
        return
      }
      busySince = now
      let called = false
      const finish = (result: { code: number, error?: Error }): void => {
        if (called) return
        called = true
        busySince = 0
        if (result.code === 0) count('success')
        else {
          count('failure')
          deps.onExportFailure(result.error ?? new Error('OTLP metrics export failed'))
        }
        done(result)
      }
      try {
        inner.export(metrics, finish)
      } catch (err) {
        finish({ code: 1, error: err as Error })
      }
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown()
  }

  const startTime = hrNow()
  const scope = { name: PLUGIN_NAME }
  const resource = resources.defaultResource().merge(resources.detectResources({ detectors: [resources.envDetector] }))
  const producer: MetricProducer = {
    async collect () {
      // Metric by metric: a collector that throws loses its own metric for this interval, not the
      // whole export. Counted and logged by the plugin (the SDK would only tell its diag logger).
      const settled = await Promise.allSettled(registry.getMetricsAsArray().map((m) => (m as unknown as { get (): Promise<unknown> }).get()))
      const json: JsonMetric[] = []
      for (const r of settled) {
        if (r.status === 'fulfilled') json.push(r.value as unknown as JsonMetric)
        else deps.onCollectError(r.reason)
      }
      const metrics = toMetricData(json, startTime)
      const resourceMetrics: ResourceMetrics = { resource, scopeMetrics: metrics.length > 0 ? [{ scope, metrics }] : [] }
      return { resourceMetrics, errors: [] }
    }
  }
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: config.intervalMillis,
    exportTimeoutMillis: config.timeoutMillis,
    metricProducers: [producer]
  })
  const provider = new MeterProvider({ resource, readers: [reader] })

  let closed: Promise<boolean> | null = null
  return {
    config,
    stats: () => ({ ...stats }),
    shutdown () {
      closed ??= new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), config.shutdownTimeoutMillis)
        provider.shutdown({ timeoutMillis: config.shutdownTimeoutMillis }).then(() => true, (err: unknown) => {
          deps.onExportFailure(err)
          return true
        }).then((inTime) => {
          clearTimeout(timer)
          resolve(inTime)
        })
      }).finally(() => {
        if (registry.getSingleMetric(OTLP_EXPORTS_METRIC) === exportsTotal) registry.removeSingleMetric(OTLP_EXPORTS_METRIC)
      })
      return closed
    }
  }
}

import { context, trace, TraceFlags } from '@opentelemetry/api'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { KNOWN_METHODS, LABEL_VALUES, LABELS, METRIC_NAMES, OTEL_LABELS, OTEL_METRIC_NAMES, STATUS_CLASSES } from './constants'
import { counterLines, counterValues, histogramLines, histogramValues, SeriesStore, type SeriesLines, type SampleValue, type Series } from './series'
import type { LabelsFunction } from './types'

/** Per-route state, built once in `onRoute` (the only place a route's settings are decided). */
export interface RouteState {
  /** The `route` label value: the template, or `__unmatched__`. */
  readonly route: string
  /** Left out for every method. */
  readonly skip: boolean
  /** Left out for these methods only (an `ignoreRoutes` function that said yes to some); null: none. */
  readonly skipMethods: ReadonlySet<string> | null
  readonly labelsFn: LabelsFunction | null
  /** Static values of the declared label names (route `config.metrics.labels` object); '' = not set. */
  readonly staticValues: readonly string[] | null
  /** Bucket bounds of this route's duration series. */
  readonly bounds: readonly number[]
  /** method -> status code -> series (or, with custom labels, a map of custom values -> series). */
  readonly byMethod: Record<string, Map<number, Series> | undefined>
  readonly customByMethod: Record<string, Map<number, Map<string, Series>> | undefined>
  readonly exceptions: Record<string, Map<string, Series> | undefined>
}

export interface RouteSettings {
  route: string
  skip: boolean
  skipMethods?: ReadonlySet<string> | null
  labelsFn: LabelsFunction | null
  staticValues?: readonly string[] | null
  bounds: readonly number[]
}

export function createRouteState (settings: RouteSettings): RouteState {
  return {
    route: settings.route,
    skip: settings.skip,
    skipMethods: settings.skipMethods ?? null,
    labelsFn: settings.labelsFn,
    staticValues: settings.staticValues ?? null,
    bounds: settings.bounds,
    byMethod: Object.create(null),
    customByMethod: Object.create(null),
    exceptions: Object.create(null)
  }
}

const knownMethods: Record<string, true | undefined> = Object.create(null)
for (const m of KNOWN_METHODS) knownMethods[m] = true

export function methodLabel (method: string): string {
  return knownMethods[method] === true ? method : LABEL_VALUES.otherMethod
}

/** The prom-client Metric surface the Registry needs: name, help, type, get(), reset(). */
export interface CustomMetric {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly aggregator: 'sum'
  readonly labelNames: readonly string[]
  get (): Promise<{ name: string, help: string, type: string, values: SampleValue[], aggregator: 'sum' }>
  /** For our renderer: the series' line writers, without the sample objects `get` builds for prom-client. */
  render? (): { name: string, help: string, type: string, lines: SeriesLines }
  reset (): void
}

export interface RequestMetricsOptions {
  naming: 'default' | 'otel'
  statusCodes: 'exact' | 'class'
  buckets: readonly number[]
  maxLabelSets: number
  labelNames: readonly string[]
  exemplars: boolean
  onOverflow: (metric: string) => void
  onLabelError: (route: string, err: unknown) => void
  onExemplarError: (err: unknown) => void
}

/**
 * The request metrics (RED): their series, the hot-path recorders and the Metric objects that a
 * prom-client Registry formats. Everything that can be decided per route is decided once and
 * cached in the RouteState, so a request costs a couple of Map lookups and a few additions.
 */
export class RequestMetrics {
  readonly metrics: CustomMetric[] = []
  readonly otel: boolean
  private readonly statusLabel: (status: number) => string
  private readonly requests: SeriesStore
  private readonly exceptions: SeriesStore | null
  private readonly customNames: readonly string[]
  private readonly exemplars: boolean
  private readonly requestMetricName: string
  private readonly exceptionMetricName: string
  private readonly onOverflow: (metric: string) => void
  private readonly onLabelError: (route: string, err: unknown) => void
  private readonly onExemplarError: (err: unknown) => void
  inFlight = 0

  constructor (opts: RequestMetricsOptions) {
    this.otel = opts.naming === 'otel'
    this.statusLabel = opts.statusCodes === 'class' ? statusClass : String
    const bounds = [...opts.buckets]
    this.customNames = opts.labelNames
    this.exemplars = opts.exemplars
    this.onOverflow = opts.onOverflow
    this.onLabelError = opts.onLabelError
    this.onExemplarError = opts.onExemplarError
    if (this.otel) {
      const names = [OTEL_LABELS.method, OTEL_LABELS.route, OTEL_LABELS.statusCode, ...opts.labelNames, OTEL_LABELS.errorType]
      this.requests = new SeriesStore(names, opts.maxLabelSets, bounds)
      this.exceptions = null
      this.requestMetricName = OTEL_METRIC_NAMES.requestDuration
      this.exceptionMetricName = OTEL_METRIC_NAMES.requestDuration
      this.metrics.push(histogramMetric(OTEL_METRIC_NAMES.requestDuration, 'Duration of HTTP server requests.', names, this.requests))
      this.metrics.push(gaugeMetric(OTEL_METRIC_NAMES.activeRequests, 'Number of active HTTP server requests.', () => this.inFlight))
    } else {
      const names = [LABELS.method, LABELS.route, LABELS.statusCode, ...opts.labelNames]
      this.requests = new SeriesStore(names, opts.maxLabelSets, bounds)
      this.exceptions = new SeriesStore([LABELS.method, LABELS.route, LABELS.exception], opts.maxLabelSets, null)
      this.requestMetricName = METRIC_NAMES.requestsTotal
      this.exceptionMetricName = METRIC_NAMES.exceptionsTotal
      this.metrics.push(counterMetric(METRIC_NAMES.requestsTotal, 'Total number of HTTP requests handled, by method, route template and status code.', names, this.requests))
      this.metrics.push(histogramMetric(METRIC_NAMES.requestDuration, 'Duration of HTTP requests in seconds, by method, route template and status code.', names, this.requests))
      this.metrics.push(counterMetric(METRIC_NAMES.exceptionsTotal, 'Total number of requests that raised an error, by method, route template and error class or code.', [LABELS.method, LABELS.route, LABELS.exception], this.exceptions))
      this.metrics.push(gaugeMetric(METRIC_NAMES.inFlight, 'Number of HTTP requests being handled right now.', () => this.inFlight))
    }
  }

  /** Hot path: one finished request. `errorType` is only used with the OpenTelemetry naming. */
  record (state: RouteState, request: FastifyRequest, reply: FastifyReply, errorType: string | null): void {
    const method = request.method
    const status = reply.statusCode
    let series: Series | undefined
    if (this.otel && errorType === null && status >= 500) errorType = this.statusLabel(status)
    if (errorType !== null) {
      // OpenTelemetry naming only: error_type is part of the label set. Errors are rare enough for the slow path.
      const custom = state.labelsFn === null ? (state.staticValues ?? []) : this.customValues(state, request, reply)
      series = this.requests.resolve([...this.baseValues(state, method, status), ...custom, errorType], state.bounds)
    } else if (state.labelsFn === null) {
      let byStatus = state.byMethod[method]
      if (byStatus === undefined) {
        byStatus = new Map()
        state.byMethod[method] = byStatus
      }
      series = byStatus.get(status)
      if (series === undefined) {
        const base = this.baseValues(state, method, status)
        series = this.requests.resolve(state.staticValues === null ? base : [...base, ...state.staticValues], state.bounds)
        // Overflowed label sets are cached too: their number is bounded by methods x status codes.
        byStatus.set(status, series)
      }
    } else {
      series = this.customSeries(state, request, reply, method, status)
    }
    const seconds = reply.elapsedTime / 1000
    series.count++
    series.sum += seconds
    const bounds = series.bounds
    let i = 0
    while (i < bounds.length && seconds > (bounds[i] as number)) i++
    const buckets = series.buckets as Float64Array
    buckets[i] = (buckets[i] as number) + 1
    if (series.overflow) this.onOverflow(this.requestMetricName)
    if (this.exemplars) {
      try {
        recordExemplar(series, i, seconds)
      } catch (err) {
        this.onExemplarError(err)
      }
    }
  }

  /** An error reached Fastify's error handler (default naming: http_requests_exceptions_total). */
  recordException (state: RouteState, method: string, exception: string): void {
    if (this.exceptions === null) return
    let byName = state.exceptions[method]
    if (byName === undefined) {
      byName = new Map()
      state.exceptions[method] = byName
    }
    let series = byName.get(exception)
    if (series === undefined) {
      series = this.exceptions.resolve([methodLabel(method), state.route, exception])
      if (!series.overflow) byName.set(exception, series)
    }
    series.count++
    if (series.overflow) this.onOverflow(this.exceptionMetricName)
    if (this.exemplars) {
      try {
        recordExemplar(series, -1, 1)
      } catch (err) {
        this.onExemplarError(err)
      }
    }
  }

  private baseValues (state: RouteState, method: string, status: number): string[] {
    return [methodLabel(method), state.route, this.statusLabel(status)]
  }

  private customSeries (state: RouteState, request: FastifyRequest, reply: FastifyReply, method: string, status: number): Series {
    const values = this.customValues(state, request, reply)
    let byStatus = state.customByMethod[method]
    if (byStatus === undefined) {
      byStatus = new Map()
      state.customByMethod[method] = byStatus
    }
    let byValues = byStatus.get(status)
    if (byValues === undefined) {
      byValues = new Map()
      byStatus.set(status, byValues)
    }
    const key = values.join('\u0000')
    let series = byValues.get(key)
    if (series === undefined) {
      series = this.requests.resolve([...this.baseValues(state, method, status), ...values], state.bounds)
      // Custom label values are open-ended: never cache the overflow, so the cache stays bounded.
      if (!series.overflow) byValues.set(key, series)
    }
    return series
  }

  /** Runs the user's label function inside a guard: a throw or a bad value never fails a request. */
  private customValues (state: RouteState, request: FastifyRequest, reply: FastifyReply): string[] {
    const names = this.customNames
    const values: string[] = new Array(names.length).fill('')
    let result: unknown
    try {
      result = (state.labelsFn as LabelsFunction)(request, reply)
    } catch (err) {
      this.onLabelError(state.route, err)
      return overlay(values, state.staticValues)
    }
    if (result === null || typeof result !== 'object') {
      this.onLabelError(state.route, new TypeError(`labels function returned ${result === null ? 'null' : typeof result}, expected an object`))
      return overlay(values, state.staticValues)
    }
    const rec = result as Record<string, unknown>
    for (let i = 0; i < names.length; i++) {
      const v = rec[names[i] as string]
      if (typeof v === 'string') values[i] = v
      else if (typeof v === 'number' || typeof v === 'boolean') values[i] = String(v)
      else if (v !== undefined && v !== null) {
        this.onLabelError(state.route, new TypeError(`labels function returned a ${typeof v} for label "${names[i] as string}", expected a string or number`))
      }
    }
    return overlay(values, state.staticValues)
  }

  reset (): void {
    this.requests.reset()
    this.exceptions?.reset()
  }
}

function statusClass (status: number): string {
  return STATUS_CLASSES[Math.floor(status / 100) - 1] ?? String(status)
}

/** A route's static label values win over the label function's. */
function overlay (values: string[], staticValues: readonly string[] | null): string[] {
  if (staticValues === null) return values
  for (let i = 0; i < staticValues.length; i++) if (staticValues[i] !== '') values[i] = staticValues[i] as string
  return values
}

/** Reads the active span once; only a sampled span leaves an exemplar. */
function recordExemplar (series: Series, bucket: number, value: number): void {
  const span = trace.getSpan(context.active())
  if (span === undefined) return
  const sc = span.spanContext()
  if ((sc.traceFlags & TraceFlags.SAMPLED) === 0) return
  const now = Date.now()
  series.exTrace = sc.traceId
  series.exSpan = sc.spanId
  series.exTime = now
  if (bucket < 0 || series.buckets === null) return
  let ex = series.bucketEx
  if (ex === null) {
    const n = series.buckets.length
    ex = { trace: new Array<string | null>(n).fill(null), span: new Array<string | null>(n).fill(null), value: new Float64Array(n), time: new Float64Array(n) }
    series.bucketEx = ex
  }
  ex.trace[bucket] = sc.traceId
  ex.span[bucket] = sc.spanId
  ex.value[bucket] = value
  ex.time[bucket] = now
}

function counterMetric (name: string, help: string, labelNames: readonly string[], store: SeriesStore): CustomMetric {
  return {
    name,
    help,
    type: 'counter',
    aggregator: 'sum',
    labelNames,
    async get () { return { name, help, type: 'counter', values: counterValues(store.all()), aggregator: 'sum' } },
    render () { return { name, help, type: 'counter', lines: counterLines(name, store.all()) } },
    reset () { store.reset() }
  }
}

function histogramMetric (name: string, help: string, labelNames: readonly string[], store: SeriesStore): CustomMetric {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    labelNames,
    async get () { return { name, help, type: 'histogram', values: histogramValues(name, store.all()), aggregator: 'sum' } },
    render () { return { name, help, type: 'histogram', lines: histogramLines(name, store.all()) } },
    reset () { store.reset() }
  }
}

function gaugeMetric (name: string, help: string, read: () => number): CustomMetric {
  return {
    name,
    help,
    type: 'gauge',
    aggregator: 'sum',
    labelNames: [],
    async get () { return { name, help, type: 'gauge', values: [{ labels: {}, value: read() }], aggregator: 'sum' } },
    reset () { /* a gauge of live requests has nothing to reset */ }
  }
}

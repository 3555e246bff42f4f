import { performance } from 'node:perf_hooks'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { DEFAULT_BUCKETS, LABEL_VALUES, LABELS, METRIC_NAMES } from './constants'
import { metricsError } from './errors'
import type { ErrorSource } from './constants'
import type { MetricsApi } from './types'

export type ErrorReporter = (source: ErrorSource, key: string, err: unknown) => void

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

type Kind = 'counter' | 'gauge' | 'histogram'
const CLASSES = { counter: Counter, gauge: Gauge, histogram: Histogram } as const
/** Methods that take user values: a throw in any of them is caught, logged once and counted. */
const GUARDED: Record<Kind, readonly string[]> = {
  counter: ['inc', 'reset', 'remove'],
  gauge: ['inc', 'dec', 'set', 'setToCurrentTime', 'startTimer', 'reset', 'remove'],
  histogram: ['observe', 'startTimer', 'zero', 'reset', 'remove']
}

interface Definition {
  name: string
  help: string
  labelNames?: readonly string[]
  buckets?: readonly number[]
  [key: string]: unknown
}

/**
 * The factories behind `app.metrics`: metrics land in the plugin's registry with the configured
 * prefix; the same name and shape returns the existing metric, a different shape throws.
 */
export class BusinessMetrics {
  private readonly registry: Registry
  private readonly prefix: string
  private readonly report: ErrorReporter
  private calls: Counter<string> | null = null
  private durations: Histogram<string> | null = null

  constructor (registry: Registry, prefix: string, report: ErrorReporter) {
    this.registry = registry
    this.prefix = prefix
    this.report = report
  }

  create<M> (kind: Kind, def: unknown, prefixed = true): M {
    if (def === null || typeof def !== 'object') throw metricsError('O11Y_ERR_METRICS_DEFINITION', `${kind} definition is ${def === null ? 'null' : typeof def}`)
    const d = def as Definition
    if (typeof d.name !== 'string') throw metricsError('O11Y_ERR_METRICS_DEFINITION', 'name is missing')
    const name = prefixed ? this.prefix + d.name : d.name
    if (!METRIC_NAME.test(name)) throw metricsError('O11Y_ERR_METRICS_DEFINITION', `invalid name "${name}"`)
    if (typeof d.help !== 'string' || d.help === '') throw metricsError('O11Y_ERR_METRICS_DEFINITION', `"${name}" needs a help text`)
    const labelNames = d.labelNames ?? []
    if (!Array.isArray(labelNames) || !labelNames.every((l) => typeof l === 'string' && LABEL_NAME.test(l) && !l.startsWith('__'))) {
      throw metricsError('O11Y_ERR_METRICS_DEFINITION', `"${name}" has invalid labelNames ${JSON.stringify(labelNames)}`)
    }
    if (kind === 'histogram' && labelNames.includes('le')) throw metricsError('O11Y_ERR_METRICS_DEFINITION', `"${name}": "le" is reserved`)
    let buckets: readonly number[] | undefined
    if (kind === 'histogram') {
      buckets = d.buckets ?? DEFAULT_BUCKETS
      if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > (buckets as number[])[i - 1]!))) {
        throw metricsError('O11Y_ERR_METRICS_DEFINITION', `"${name}" has invalid buckets ${JSON.stringify(d.buckets)}`)
      }
    }

    const existing = this.registry.getSingleMetric(name) as unknown
    if (existing !== undefined) {
      const e = existing as { labelNames?: string[], upperBounds?: number[] }
      const sameKind = existing instanceof CLASSES[kind]
      const sameLabels = sameKind && sameSet(e.labelNames ?? [], labelNames)
      const sameBuckets = kind !== 'histogram' || (sameKind && sameList(e.upperBounds ?? [], buckets ?? []))
      if (sameKind && sameLabels && sameBuckets) return existing as M
      throw metricsError('O11Y_ERR_METRICS_SHAPE_MISMATCH', `"${name}" exists as ${describe(existing)}, asked for a ${kind} with labels [${labelNames.join(', ')}]${kind === 'histogram' ? ` and buckets [${(buckets ?? []).join(', ')}]` : ''}`)
    }

    const { registers: _registers, ...rest } = d
    let metric: Counter<string> | Gauge<string> | Histogram<string>
    try {
      const Ctor = CLASSES[kind] as unknown as new (cfg: unknown) => Counter<string>
      metric = new Ctor({ ...rest, name, labelNames: [...labelNames], ...(buckets !== undefined ? { buckets: [...buckets] } : {}), registers: [this.registry] })
    } catch (err) {
      throw metricsError('O11Y_ERR_METRICS_DEFINITION', `"${name}": ${(err as Error).message}`)
    }
    guard(metric as unknown as Record<string, unknown>, GUARDED[kind], name, this.report)
    return metric as M
  }

  track<F extends (...args: any[]) => any> (name: string, fn: F): F {
    if (typeof name !== 'string' || name === '') throw metricsError('O11Y_ERR_METRICS_TRACK', `name ${JSON.stringify(name)}`)
    if (typeof fn !== 'function') throw metricsError('O11Y_ERR_METRICS_TRACK', `"${name}" is not given a function`)
    const calls = this.calls ??= this.create<Counter<string>>('counter', {
      name: METRIC_NAMES.functionCalls,
      help: 'Calls of tracked functions, by function name and outcome (success or error).',
      labelNames: [LABELS.function, LABELS.status]
    }, false)
    const durations = this.durations ??= this.create<Histogram<string>>('histogram', {
      name: METRIC_NAMES.functionDuration,
      help: 'Duration of tracked function calls in seconds, by function name.',
      labelNames: [LABELS.function],
      buckets: [...DEFAULT_BUCKETS]
    }, false)
    const ok = { [LABELS.function]: name, [LABELS.status]: LABEL_VALUES.success }
    const failed = { [LABELS.function]: name, [LABELS.status]: LABEL_VALUES.error }
    const byName = { [LABELS.function]: name }
    function finish (start: number, success: boolean): void {
      calls.inc(success ? ok : failed)
      durations.observe(byName, (performance.now() - start) / 1000)
    }
    const wrapped = function tracked (this: unknown, ...args: unknown[]): unknown {
      const start = performance.now()
      let result: unknown
      try {
        result = fn.apply(this, args)
      } catch (err) {
        finish(start, false)
        throw err
      }
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        return (result as PromiseLike<unknown>).then(
          (value) => { finish(start, true); return value },
          (err: unknown) => { finish(start, false); throw err }
        )
      }
      finish(start, true)
      return result
    }
    Object.defineProperty(wrapped, 'name', { value: fn.name || name })
    return wrapped as F
  }
}

function guard (target: Record<string, unknown>, methods: readonly string[], metric: string, report: ErrorReporter): void {
  for (const m of methods) {
    const orig = target[m]
    if (typeof orig !== 'function') continue
    target[m] = function guarded (this: unknown, ...args: unknown[]) {
      try {
        return orig.apply(this, args)
      } catch (err) {
        report('metric', metric, err)
        return m === 'startTimer' ? noopTimer : undefined
      }
    }
  }
  // Children from labels() call prom-client internals directly: guard them too.
  const labels = target.labels
  if (typeof labels === 'function') {
    target.labels = function guardedLabels (this: unknown, ...args: unknown[]) {
      let child: Record<string, unknown>
      try {
        child = labels.apply(this, args) as Record<string, unknown>
      } catch (err) {
        report('metric', metric, err)
        return noopChild
      }
      guard(child, Object.keys(child).filter((k) => typeof child[k] === 'function'), metric, report)
      return child
    }
  }
}

function noopTimer (): number { return 0 }
const noopChild = Object.freeze({ inc () {}, dec () {}, set () {}, setToCurrentTime () {}, observe () {}, startTimer: () => noopTimer })

function sameSet (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

function sameList (a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function describe (m: unknown): string {
  const x = m as { type?: string, labelNames?: string[], upperBounds?: number[] }
  return `a ${x.type ?? 'metric'} with labels [${(x.labelNames ?? []).join(', ')}]${x.upperBounds !== undefined ? ` and buckets [${x.upperBounds.join(', ')}]` : ''}`
}

/**
 * TypeScript 5 (standard, not `experimentalDecorators`) method decorator: every call of the method
 * goes through `metrics.track(name, method)`. `source` is the `app.metrics` object or a function
 * returning it, for classes defined before the app exists. `name` defaults to the method's name.
 *
 *   class Payments { @tracked(() => app.metrics, 'charge_card') async charge () { ... } }
 */
export function tracked (source: Pick<MetricsApi, 'track'> | (() => Pick<MetricsApi, 'track'>), name?: string) {
  if (source === null || (typeof source !== 'object' && typeof source !== 'function')) throw metricsError('O11Y_ERR_METRICS_TRACK', 'tracked() needs app.metrics or a function returning it')
  if (name !== undefined && (typeof name !== 'string' || name === '')) throw metricsError('O11Y_ERR_METRICS_TRACK', `name ${JSON.stringify(name)}`)
  return function decorate<This, Args extends unknown[], R> (
    method: (this: This, ...args: Args) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>
  ): (this: This, ...args: Args) => R {
    if (context.kind !== 'method') throw metricsError('O11Y_ERR_METRICS_TRACK', '@tracked decorates methods only')
    const fnName = name ?? String(context.name)
    let lastApi: Pick<MetricsApi, 'track'> | null = null
    let wrapped: ((this: This, ...args: Args) => R) | null = null
    return function trackedMethod (this: This, ...args: Args): R {
      const api = typeof source === 'function' ? source() : source
      if (api !== lastApi || wrapped === null) {
        lastApi = api
        wrapped = api.track(fnName, method)
      }
      return wrapped.apply(this, args)
    }
  }
}

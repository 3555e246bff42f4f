import { performance } from 'node:perf_hooks'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { DEFAULT_BUCKETS, LABEL_VALUES, LABELS, METRIC_NAMES } from './constants'
import { metricsError } from './errors'
import { LABEL_NAME, validCap } from './options'
import type { ErrorSource } from './constants'
import type { MetricsApi } from './types'

export type ErrorReporter = (source: ErrorSource, key: string, err: unknown) => void
/** Told of every observation sent to a metric's overflow series. */
export type OverflowReporter = (metric: string, cap: number) => void

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

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
  maxLabelSets?: number
  [key: string]: unknown
}

/**
 * The label-set cap of one metric: the first `cap` label sets are recorded as given, every later
 * new one goes to the overflow series (each label `__overflow__`), as with the request metrics.
 * prom-client keeps every label set it is given forever, so the cap is applied before it sees them.
 */
class SeriesCap {
  private readonly keys = new Set<string>()
  private readonly names: readonly string[]
  private readonly known: ReadonlySet<string>
  readonly overflowLabels: Readonly<Record<string, string>>

  constructor (names: readonly string[], readonly cap: number, private readonly metric: string, private readonly onOverflow: OverflowReporter) {
    this.names = names
    this.known = new Set(names)
    const overflow: Record<string, string> = {}
    for (const n of names) overflow[n] = LABEL_VALUES.overflow
    this.overflowLabels = Object.freeze(overflow)
  }

  private key (labels: Record<string, unknown>): string {
    let key = ''
    for (const n of this.names) {
      const v = labels[n]
      key += (v === undefined || v === null ? '' : String(v)) + '\u0001'
    }
    return key
  }

  /**
   * The labels to record under: these, or the overflow labels once the cap is reached. `count`
   * false: a `labels()` child is being made, its observations are counted when they happen.
   */
  admit (labels: unknown, count = true): unknown {
    if (labels === null || typeof labels !== 'object') return labels
    if (labels === this.overflowLabels) {
      if (count) this.overflowed()
      return labels
    }
    const l = labels as Record<string, unknown>
    // Unknown label names: let prom-client reject them (guarded) without taking a slot.
    for (const k in l) if (!this.known.has(k)) return labels
    const key = this.key(l)
    if (this.keys.has(key)) return labels
    if (this.keys.size < this.cap) {
      this.keys.add(key)
      return labels
    }
    if (count) this.overflowed()
    return this.overflowLabels
  }

  overflowed (): void {
    this.onOverflow(this.metric, this.cap)
  }

  forget (labels: unknown): void {
    if (labels !== null && typeof labels === 'object') this.keys.delete(this.key(labels as Record<string, unknown>))
  }

  clear (): void {
    this.keys.clear()
  }

  /** prom-client's `labels('a', 'b')` / `remove('a', 'b')` positional form, as an object. */
  fromArgs (args: unknown[]): unknown {
    if (args.length === 1 && args[0] !== null && typeof args[0] === 'object') return args[0]
    // A wrong number of values: leave it to prom-client to reject (guarded).
    if (args.length !== this.names.length) return null
    const out: Record<string, unknown> = {}
    for (let i = 0; i < args.length && i < this.names.length; i++) out[this.names[i] as string] = args[i]
    return out
  }
}

/**
 * The factories behind `app.metrics`: metrics land in the plugin's registry with the configured
 * prefix; the same name and shape returns the existing metric, a different shape throws.
 */
export class BusinessMetrics {
  private readonly registry: Registry
  private readonly prefix: string
  private readonly report: ErrorReporter
  private readonly maxLabelSets: number
  private readonly onOverflow: OverflowReporter
  private calls: Counter<string> | null = null
  private durations: Histogram<string> | null = null

  constructor (registry: Registry, prefix: string, report: ErrorReporter, maxLabelSets: number, onOverflow: OverflowReporter) {
    this.registry = registry
    this.prefix = prefix
    this.report = report
    this.maxLabelSets = maxLabelSets
    this.onOverflow = onOverflow
  }

  create<M> (kind: Kind, def: unknown, prefixed = true): M {
    if (def === null || typeof def !== 'object') throw metricsError('DEFINITION', `${kind} definition is ${def === null ? 'null' : typeof def}`)
    const d = def as Definition
    if (typeof d.name !== 'string') throw metricsError('DEFINITION', 'name is missing')
    const name = prefixed ? this.prefix + d.name : d.name
    if (!METRIC_NAME.test(name)) throw metricsError('DEFINITION', `invalid name "${name}"`)
    if (typeof d.help !== 'string' || d.help === '') throw metricsError('DEFINITION', `"${name}" needs a help text`)
    const labelNames = d.labelNames ?? []
    if (!Array.isArray(labelNames) || !labelNames.every((l) => typeof l === 'string' && LABEL_NAME.test(l) && !l.startsWith('__'))) {
      throw metricsError('DEFINITION', `"${name}" has invalid labelNames ${JSON.stringify(labelNames)}`)
    }
    if (kind === 'histogram' && labelNames.includes('le')) throw metricsError('DEFINITION', `"${name}": "le" is reserved`)
    const cap = d.maxLabelSets ?? this.maxLabelSets
    if (!validCap(cap)) throw metricsError('DEFINITION', `"${name}": maxLabelSets ${String(d.maxLabelSets)}`)
    let buckets: readonly number[] | undefined
    if (kind === 'histogram') {
      buckets = d.buckets ?? DEFAULT_BUCKETS
      if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((x, i) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > (buckets as number[])[i - 1]!))) {
        throw metricsError('DEFINITION', `"${name}" has invalid buckets ${JSON.stringify(d.buckets)}`)
      }
    }

    const existing = this.registry.getSingleMetric(name) as unknown
    if (existing !== undefined) {
      const e = existing as { labelNames?: string[], upperBounds?: number[] }
      const sameKind = existing instanceof CLASSES[kind]
      const sameLabels = sameKind && sameSet(e.labelNames ?? [], labelNames)
      const sameBuckets = kind !== 'histogram' || (sameKind && sameList(e.upperBounds ?? [], buckets ?? []))
      if (sameKind && sameLabels && sameBuckets) return existing as M
      throw metricsError('SHAPE_MISMATCH', `"${name}" exists as ${describe(existing)}, asked for a ${kind} with labels [${labelNames.join(', ')}]${kind === 'histogram' ? ` and buckets [${(buckets ?? []).join(', ')}]` : ''}`)
    }

    const { registers: _registers, maxLabelSets: _cap, ...rest } = d
    let metric: Counter<string> | Gauge<string> | Histogram<string>
    try {
      const Ctor = CLASSES[kind] as unknown as new (cfg: unknown) => Counter<string>
      metric = new Ctor({ ...rest, name, labelNames: [...labelNames], ...(buckets !== undefined ? { buckets: [...buckets] } : {}), registers: [this.registry] })
    } catch (err) {
      throw metricsError('DEFINITION', `"${name}": ${(err as Error).message}`)
    }
    const limit = labelNames.length > 0 ? new SeriesCap(labelNames, cap, name, this.onOverflow) : null
    guard(metric as unknown as Record<string, unknown>, GUARDED[kind], name, this.report, limit)
    return metric as M
  }

  track<F extends (...args: any[]) => any> (name: string, fn: F): F {
    if (typeof name !== 'string' || name === '') throw metricsError('TRACK', `name ${JSON.stringify(name)}`)
    if (typeof fn !== 'function') throw metricsError('TRACK', `"${name}" is not given a function`)
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

/** Methods whose first argument, when an object, is the label set to record under. */
const RECORDS = new Set(['inc', 'dec', 'set', 'setToCurrentTime', 'observe', 'zero'])

function guard (target: Record<string, unknown>, methods: readonly string[], metric: string, report: ErrorReporter, limit: SeriesCap | null): void {
  const exemplarForm = target.enableExemplars === true
  for (const m of methods) {
    const orig = target[m]
    if (typeof orig !== 'function') continue
    const records = limit !== null && RECORDS.has(m)
    target[m] = function guarded (this: unknown, ...args: unknown[]) {
      try {
        if (records) {
          const first = args[0]
          if (exemplarForm && first !== null && typeof first === 'object' && 'labels' in first) {
            args[0] = { ...first, labels: limit.admit((first as { labels?: unknown }).labels ?? {}) }
          } else {
            args[0] = limit.admit(first)
          }
        }
        const result = orig.apply(this, args)
        if (limit !== null) {
          if (m === 'remove') {
            const given = limit.fromArgs(args)
            if (given !== null) limit.forget(given)
          }
          else if (m === 'reset') limit.clear()
        }
        return result
      } catch (err) {
        report('metric', metric, err)
        return m === 'startTimer' ? noopTimer : undefined
      }
    }
  }
  // Children from labels() call prom-client internals directly: cap their label set once, and
  // guard their methods too.
  const labels = target.labels
  if (typeof labels === 'function') {
    target.labels = function guardedLabels (this: unknown, ...args: unknown[]) {
      let child: Record<string, unknown>
      const given = limit !== null ? limit.fromArgs(args) : null
      const admitted = limit !== null && given !== null ? limit.admit(given, false) : null
      try {
        child = (admitted !== null ? labels.call(this, admitted) : labels.apply(this, args)) as Record<string, unknown>
      } catch (err) {
        report('metric', metric, err)
        return noopChild
      }
      guard(child, Object.keys(child).filter((k) => typeof child[k] === 'function'), metric, report, null)
      // A histogram child observes through prom-client internals, not through our `observe`:
      // count its overflowed observations here (counter and gauge children call our methods).
      if (limit !== null && admitted === limit.overflowLabels && typeof child.observe === 'function') {
        const observe = child.observe as (...a: unknown[]) => unknown
        child.observe = function overflowObserve (...a: unknown[]) {
          limit.overflowed()
          return observe(...a)
        }
      }
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
  if (source === null || (typeof source !== 'object' && typeof source !== 'function')) throw metricsError('TRACK', 'tracked() needs app.metrics or a function returning it')
  if (name !== undefined && (typeof name !== 'string' || name === '')) throw metricsError('TRACK', `name ${JSON.stringify(name)}`)
  return function decorate<This, Args extends unknown[], R> (
    method: (this: This, ...args: Args) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>
  ): (this: This, ...args: Args) => R {
    if (context.kind !== 'method') throw metricsError('TRACK', '@tracked decorates methods only')
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

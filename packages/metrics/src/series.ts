import { EXEMPLAR_LABELS, LABEL_VALUES } from './constants'
import { escapeLabel, formatValue } from './format'
import type { RenderBuffer } from './exposition'

/**
 * One label set of a request metric. The counter and the histogram of the request metrics share
 * it: `count` is both `http_requests_total` and `http_request_duration_seconds_count`.
 * Bucket counts are kept per bucket (not cumulative) and summed at scrape time, so an observation
 * touches one slot.
 */
export interface Series {
  readonly labels: Record<string, string>
  readonly overflow: boolean
  count: number
  sum: number
  /** Non-cumulative counts, one slot per bound plus +Inf; null for counters. */
  readonly buckets: Float64Array | null
  /**
   * Upper bounds of this series' buckets. A route with its own `buckets` has series with their own
   * `le` set inside the one histogram family (valid in both exposition formats).
   */
  readonly bounds: readonly number[]
  /** Last exemplar on the counter sample. */
  exTrace: string | null
  exSpan: string | null
  exTime: number
  /** Last exemplar per bucket, allocated on the first sampled observation. */
  bucketEx: BucketExemplars | null
  /** Labels of the bucket samples (labels + le), built on the first scrape and reused: read-only. */
  bucketLabels: Array<Record<string, string | number>> | null
  /** The escaped `name="value",...` text of `labels`, built on the first render and reused. */
  labelText: string | null
  /** `<counter name>{labels} `: what every counter line of this series starts with (first render on). */
  counterHead: string | null
  /** Whether `labelText` is all ASCII (its lines are then written byte for byte, else as UTF-8). */
  asciiLabels: boolean
  /** `<name>_bucket{labels,le="…"} ` per bucket, then the `_sum` and `_count` line starts (first render on). */
  histogramHeads: string[] | null
}

export interface BucketExemplars {
  trace: Array<string | null>
  span: Array<string | null>
  value: Float64Array
  time: Float64Array
}

export function createSeries (labels: Record<string, string>, bounds: readonly number[] | null, overflow: boolean): Series {
  return {
    labels,
    overflow,
    count: 0,
    sum: 0,
    buckets: bounds !== null ? new Float64Array(bounds.length + 1) : null,
    bounds: bounds ?? [],
    exTrace: null,
    exSpan: null,
    exTime: 0,
    bucketEx: null,
    bucketLabels: null,
    labelText: null,
    asciiLabels: true,
    counterHead: null,
    histogramHeads: null
  }
}

/**
 * All series of one metric, keyed by their label values. Past `cap` label sets every new label
 * set goes to one overflow series whose labels all read `__overflow__`, and `onOverflow` is told
 * so that o11y_metrics_overflow_total counts the observation.
 */
export class SeriesStore {
  readonly labelNames: readonly string[]
  private readonly map = new Map<string, Series>()
  private overflowSeries: Series | null = null
  private readonly cap: number
  /** Default bounds of histogram series (null: counters). */
  private readonly bounds: readonly number[] | null

  constructor (labelNames: readonly string[], cap: number, bounds: readonly number[] | null) {
    this.labelNames = labelNames
    this.cap = cap
    this.bounds = bounds
  }

  get size (): number {
    return this.map.size
  }

  /**
   * Slow path, called once per new label set (callers cache the result). `bounds` replaces the
   * store's bucket bounds for a new series (a route's own buckets); the overflow series keeps the
   * store's.
   */
  resolve (values: readonly string[], bounds?: readonly number[]): Series {
    const key = values.join('\u0000')
    const found = this.map.get(key)
    if (found !== undefined) return found
    if (this.map.size >= this.cap) return this.overflow()
    const labels: Record<string, string> = {}
    for (let i = 0; i < this.labelNames.length; i++) {
      const v = values[i]
      // An empty value is the same as an absent label for Prometheus: leave it out.
      if (v !== undefined && v !== '') labels[this.labelNames[i] as string] = v
    }
    const series = createSeries(labels, this.bounds !== null ? (bounds ?? this.bounds) : null, false)
    this.map.set(key, series)
    return series
  }

  overflow (): Series {
    if (this.overflowSeries === null) {
      const labels: Record<string, string> = {}
      for (const name of this.labelNames) labels[name] = LABEL_VALUES.overflow
      this.overflowSeries = createSeries(labels, this.bounds, true)
    }
    return this.overflowSeries
  }

  all (): Series[] {
    const out = [...this.map.values()]
    if (this.overflowSeries !== null) out.push(this.overflowSeries)
    return out
  }

  reset (): void {
    for (const s of this.all()) {
      s.count = 0
      s.sum = 0
      if (s.buckets !== null) s.buckets.fill(0)
      s.exTrace = null
      s.exSpan = null
      s.bucketEx = null
    }
  }
}

/** Sample values in the shape prom-client's Registry understands (so `registry.metrics()` works too). */
export interface SampleValue {
  labels: Record<string, string | number>
  value: number
  metricName?: string
  exemplar?: { labelSet: Record<string, string>, value: number, timestamp: number } | null
}

export function counterValues (series: Series[]): SampleValue[] {
  const out: SampleValue[] = []
  for (const s of series) {
    out.push({
      labels: s.labels,
      value: s.count,
      exemplar: s.exTrace !== null
        ? { labelSet: { [EXEMPLAR_LABELS.traceId]: s.exTrace, [EXEMPLAR_LABELS.spanId]: s.exSpan ?? '' }, value: 1, timestamp: s.exTime / 1000 }
        : null
    })
  }
  return out
}

export function histogramValues (name: string, series: Series[]): SampleValue[] {
  const out: SampleValue[] = []
  const bucketName = `${name}_bucket`
  for (const s of series) {
    const bounds = s.bounds
    const buckets = s.buckets as Float64Array
    const ex = s.bucketEx
    let bucketLabels = s.bucketLabels
    if (bucketLabels === null) {
      bucketLabels = []
      for (let i = 0; i <= bounds.length; i++) bucketLabels.push({ ...s.labels, le: i < bounds.length ? bounds[i] as number : '+Inf' })
      s.bucketLabels = bucketLabels
    }
    let acc = 0
    for (let i = 0; i <= bounds.length; i++) {
      acc += buckets[i] as number
      const trace = ex !== null ? ex.trace[i] : null
      out.push({
        labels: bucketLabels[i] as Record<string, string | number>,
        value: acc,
        metricName: bucketName,
        exemplar: ex !== null && trace != null
          ? { labelSet: { [EXEMPLAR_LABELS.traceId]: trace, [EXEMPLAR_LABELS.spanId]: ex.span[i] ?? '' }, value: ex.value[i] as number, timestamp: (ex.time[i] as number) / 1000 }
          : null
      })
    }
    out.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` })
    out.push({ labels: s.labels, value: s.count, metricName: `${name}_count` })
  }
  return out
}

/** Writes the lines of one series into a render; returns how many it wrote. */
export interface SeriesLines {
  readonly items: readonly Series[]
  readonly write: (out: RenderBuffer, om: boolean, s: Series) => number
}

const NON_ASCII = /[\u0080-\uffff]/
const NEWLINE = 10

function labelText (s: Series): string {
  let text = s.labelText
  if (text === null) {
    text = ''
    for (const k in s.labels) text += `${text === '' ? '' : ','}${k}="${escapeLabel(s.labels[k] as string)}"`
    s.labelText = text
    s.asciiLabels = !NON_ASCII.test(text)
  }
  return text
}

const leTexts = new WeakMap<readonly number[], string[]>()
function leText (bounds: readonly number[]): string[] {
  let texts = leTexts.get(bounds)
  if (texts === undefined) {
    texts = [...bounds.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"']
    leTexts.set(bounds, texts)
  }
  return texts
}

function exemplar (trace: string, span: string | null, value: number, time: number): string {
  return ` # {${EXEMPLAR_LABELS.traceId}="${trace}",${EXEMPLAR_LABELS.spanId}="${span ?? ''}"} ${formatValue(value)} ${time / 1000}`
}

/**
 * The fast path of the request metrics: the same text the generic renderer would write from
 * counterValues/histogramValues, without building a sample object per line. Everything before a
 * line's value is built on the first render of a series and reused (a series belongs to one
 * counter and one histogram, whose names never change), so a line costs one concatenation.
 */
export function counterLines (name: string, series: Series[]): SeriesLines {
  const write = function writeCounter (out: RenderBuffer, om: boolean, s: Series): number {
    let head = s.counterHead
    if (head === null) {
      const labels = labelText(s)
      head = s.counterHead = `${name}${labels === '' ? '' : `{${labels}}`} `
    }
    if (s.asciiLabels) out.ascii(head)
    else out.text(head)
    out.value(s.count)
    if (om && s.exTrace !== null) out.text(exemplar(s.exTrace, s.exSpan, 1, s.exTime))
    out.byte(NEWLINE)
    return 1
  }
  return { items: series, write }
}

function histogramHeads (name: string, s: Series): string[] {
  const labels = labelText(s)
  const prefix = labels === '' ? `${name}_bucket{` : `${name}_bucket{${labels},`
  const heads = leText(s.bounds).map((le) => `${prefix}${le}} `)
  const braces = labels === '' ? '' : `{${labels}}`
  heads.push(`${name}_sum${braces} `, `${name}_count${braces} `)
  return heads
}

export function histogramLines (name: string, series: Series[]): SeriesLines {
  const write = function writeHistogram (out: RenderBuffer, om: boolean, s: Series): number {
    let heads = s.histogramHeads
    if (heads === null) heads = s.histogramHeads = histogramHeads(name, s)
    const buckets = s.buckets as Float64Array
    const ex = om ? s.bucketEx : null
    const ascii = s.asciiLabels
    const n = heads.length - 2
    let acc = 0
    for (let i = 0; i < n; i++) {
      acc += buckets[i] as number
      if (ascii) out.ascii(heads[i] as string)
      else out.text(heads[i] as string)
      out.value(acc)
      const trace = ex !== null ? ex.trace[i] : null
      if (ex !== null && trace != null) out.text(exemplar(trace, ex.span[i] ?? null, ex.value[i] as number, ex.time[i] as number))
      out.byte(NEWLINE)
    }
    if (ascii) out.ascii(heads[n] as string)
    else out.text(heads[n] as string)
    out.value(s.sum)
    out.byte(NEWLINE)
    if (ascii) out.ascii(heads[n + 1] as string)
    else out.text(heads[n + 1] as string)
    out.value(s.count)
    out.byte(NEWLINE)
    return n + 2
  }
  return { items: series, write }
}

import { EXEMPLAR_LABELS, LABEL_VALUES } from './constants'

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
  /** Last exemplar on the counter sample. */
  exTrace: string | null
  exSpan: string | null
  exTime: number
  /** Last exemplar per bucket, allocated on the first sampled observation. */
  bucketEx: BucketExemplars | null
  /** Labels of the bucket samples (labels + le), built on the first scrape and reused: read-only. */
  bucketLabels: Array<Record<string, string | number>> | null
}

export interface BucketExemplars {
  trace: Array<string | null>
  span: Array<string | null>
  value: Float64Array
  time: Float64Array
}

export function createSeries (labels: Record<string, string>, bucketCount: number, overflow: boolean): Series {
  return {
    labels,
    overflow,
    count: 0,
    sum: 0,
    buckets: bucketCount > 0 ? new Float64Array(bucketCount + 1) : null,
    exTrace: null,
    exSpan: null,
    exTime: 0,
    bucketEx: null,
    bucketLabels: null
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
  private readonly bucketCount: number

  constructor (labelNames: readonly string[], cap: number, bucketCount: number) {
    this.labelNames = labelNames
    this.cap = cap
    this.bucketCount = bucketCount
  }

  get size (): number {
    return this.map.size
  }

  /** Slow path, called once per new label set (callers cache the result). */
  resolve (values: readonly string[]): Series {
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
    const series = createSeries(labels, this.bucketCount, false)
    this.map.set(key, series)
    return series
  }

  overflow (): Series {
    if (this.overflowSeries === null) {
      const labels: Record<string, string> = {}
      for (const name of this.labelNames) labels[name] = LABEL_VALUES.overflow
      this.overflowSeries = createSeries(labels, this.bucketCount, true)
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

export function histogramValues (name: string, bounds: readonly number[], series: Series[]): SampleValue[] {
  const out: SampleValue[] = []
  const bucketName = `${name}_bucket`
  for (const s of series) {
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

import type { Registry } from 'prom-client'
import { RENDER_CHUNK_SAMPLES } from './constants'
import { escapeHelp, formatLabels, formatLabelsOver, formatValue } from './format'

export type ExpositionFormat = 'prometheus' | 'openmetrics'

/**
 * Chooses the format from an `Accept` header the way Prometheus negotiates: OpenMetrics when the
 * scraper lists `application/openmetrics-text` with a quality at least that of `text/plain`.
 */
export function negotiate (accept: string | undefined): ExpositionFormat {
  if (accept === undefined || !accept.includes('openmetrics')) return 'prometheus'
  let om = 0
  let text = 0
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';')
    let q = 1
    for (const p of params) {
      const [k, v] = p.split('=')
      if (k?.trim() === 'q' && v !== undefined) q = Number.parseFloat(v)
    }
    if (!Number.isFinite(q)) q = 0
    const t = type.trim().toLowerCase()
    if (t === 'application/openmetrics-text') om = Math.max(om, q)
    else if (t === 'text/plain' || t === '*/*' || t === 'text/*') text = Math.max(text, q)
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus'
}

/** A collector (a metric's `get`/`collect`) failed; `metric` names it. */
export class CollectorError extends Error {
  readonly metric: string
  constructor (metric: string, cause: unknown) {
    super(`collecting metric "${metric}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'CollectorError'
    this.metric = metric
  }
}

export interface Sample {
  labels?: Record<string, unknown>
  value: unknown
  metricName?: string
  exemplar?: { labelSet?: Record<string, unknown>, value?: unknown, timestamp?: unknown } | null
}

export interface Family {
  name: string
  help: string
  type: string
  values?: Sample[]
  /** Fast path of the plugin's own metrics: `write` renders one item (a series), returning the lines it wrote. */
  lines?: FastLines<any>
}

/**
 * The text of a render, grown line by line. One string rather than an array of lines joined at
 * the end: a joined line built by concatenation is copied twice (flattened, then joined), an
 * appended one once, when the response is encoded.
 */
export interface RenderText {
  text: string
}

/** Items rendered by one shared writer: no sample object and no closure per series and scrape. */
export interface FastLines<T> {
  readonly items: readonly T[]
  /** Appends the item's lines (each ending in a newline) to `out.text`; returns how many. */
  readonly write: (out: RenderText, om: boolean, item: T) => number
}

export type BadValueReporter = (metric: string, detail: string) => void

/** Lets timers and I/O (the app's requests) run between two chunks of a render. */
function yieldToEventLoop (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** What one render needs beside the family: the same for every family of a scrape. */
interface RenderTarget extends RenderText {
  readonly om: boolean
  /** The registry's default labels; null when there are none. */
  readonly defaults: Record<string, unknown> | null
  readonly onBadValue: BadValueReporter
}

/** HELP and TYPE lines; returns the name samples of the family are written under by default. */
function writeHeader (target: RenderTarget, f: Family): string {
  const om = target.om
  const counter = f.type === 'counter'
  const family = om && counter ? f.name.replace(/_total$/, '') : f.name
  const type = f.type === 'counter' || f.type === 'gauge' || f.type === 'histogram' || f.type === 'summary' ? f.type : (om ? 'unknown' : 'untyped')
  target.text += `# HELP ${family} ${escapeHelp(f.help, om)}\n# TYPE ${family} ${type}\n`
  return om && counter ? family + '_total' : f.name
}

/**
 * Writes the samples of `values` from index `from` until `budget` of them were seen; returns the
 * index to go on from (`values.length` when the family is done). The one sample loop of both
 * renderers.
 */
function writeSamples (target: RenderTarget, f: Family, values: readonly Sample[], sampleName: string, from: number, budget: number): number {
  const { om, defaults } = target
  const end = Math.min(values.length, from + budget)
  for (let i = from; i < end; i++) {
    const s = values[i] as Sample
    const value = s.value
    if (typeof value !== 'number') {
      target.onBadValue(f.name, `value ${typeof value} ${String(value)}`)
      continue
    }
    const labels = defaults === null ? formatLabels(s.labels) : formatLabelsOver(defaults, s.labels)
    const ex = s.exemplar
    if (om && ex !== undefined && ex !== null && ex.labelSet !== undefined && typeof ex.value === 'number') {
      target.text += (s.metricName ?? sampleName) + labels + ' ' + formatValue(value) + ' # ' + (formatLabels(ex.labelSet) || '{}') + ' ' +
        formatValue(ex.value) + (typeof ex.timestamp === 'number' ? ' ' + ex.timestamp : '') + '\n'
    } else {
      target.text += (s.metricName ?? sampleName) + labels + ' ' + formatValue(value) + '\n'
    }
  }
  return end
}

function targetFor (registry: Registry | null, format: ExpositionFormat, onBadValue: BadValueReporter): RenderTarget {
  const defaults = defaultLabelsOf(registry)
  return { text: '', om: format === 'openmetrics', defaults: Object.keys(defaults).length > 0 ? defaults : null, onBadValue }
}

function finish (target: RenderTarget): string {
  if (target.om) return target.text + '# EOF\n'
  // An empty Prometheus exposition is one newline, as it always was.
  return target.text === '' ? '\n' : target.text
}

/**
 * Renders a registry in Prometheus text 0.0.4 or OpenMetrics 1.0 without touching the registry's
 * own content type: prom-client's Registry has one content type, and its OpenMetrics path renames
 * counters in place (drops `_total`), which would corrupt every later Prometheus-format scrape.
 * Exemplars are written only in OpenMetrics. A sample with a non-numeric value is left out and
 * reported; a metric whose collector throws fails the whole render with a CollectorError.
 *
 * Families are collected one after the other, and the render yields to the event loop after every
 * `chunkSamples` samples, so a large registry never blocks the app for the whole scrape.
 */
export async function render (registry: Registry, format: ExpositionFormat, onBadValue: BadValueReporter, chunkSamples = RENDER_CHUNK_SAMPLES): Promise<string> {
  const metrics = registry.getMetricsAsArray() as unknown as Array<{ name: string, get (): Promise<Family> | Family, render?: () => Family }>
  const target = targetFor(registry, format, onBadValue)
  const om = target.om
  let sinceYield = 0
  for (const m of metrics) {
    let f: Family
    try {
      // The plugin's own request metrics skip the sample objects (no default labels to merge).
      f = typeof m.render === 'function' && target.defaults === null ? m.render() : await m.get()
    } catch (err) {
      throw new CollectorError(m.name, err)
    }
    const sampleName = writeHeader(target, f)
    const fast = f.lines
    if (fast !== undefined) {
      // The plugin's own request metrics write their lines directly from cached label text.
      const { items, write } = fast
      for (let i = 0; i < items.length; i++) {
        sinceYield += write(target, om, items[i])
        if (sinceYield >= chunkSamples) {
          sinceYield = 0
          await yieldToEventLoop()
        }
      }
    } else {
      const values = f.values ?? []
      let i = 0
      while (i < values.length) {
        const next = writeSamples(target, f, values, sampleName, i, chunkSamples - sinceYield)
        sinceYield += next - i
        i = next
        if (sinceYield >= chunkSamples) {
          sinceYield = 0
          await yieldToEventLoop()
        }
      }
    }
    if (!om) target.text += '\n'
  }
  return finish(target)
}

/** Runs every collector of the registry (their `get`); a throwing one fails the collection with a CollectorError. */
export async function collectFamilies (registry: Registry): Promise<Family[]> {
  const metrics = registry.getMetricsAsArray() as unknown as Array<{ name: string, get (): Promise<Family> | Family }>
  return await Promise.all(metrics.map(async (m) => {
    try {
      return await m.get()
    } catch (err) {
      throw new CollectorError(m.name, err)
    }
  }))
}

/** The registry's default labels (`setDefaultLabels`), applied to every sample when rendered. */
export function defaultLabelsOf (registry: Registry | null): Record<string, unknown> {
  return (registry === null ? undefined : (registry as unknown as { _defaultLabels?: Record<string, unknown> })._defaultLabels) ?? {}
}

/** Renders collected families like `render` (sample objects only); the cluster primary renders its aggregate with it. */
export function renderFamilies (families: Family[], registry: Registry | null, format: ExpositionFormat, onBadValue: BadValueReporter): string {
  const target = targetFor(registry, format, onBadValue)
  for (const f of families) {
    const values = f.values ?? []
    writeSamples(target, f, values, writeHeader(target, f), 0, values.length)
    if (!target.om) target.text += '\n'
  }
  return finish(target)
}

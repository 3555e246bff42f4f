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

/** Buffers kept for the next render: two (one render per format may run at once). */
const spareBuffers: Buffer[] = []
/** A buffer that grew past this is not kept for the next render. */
const SPARE_MAX_BYTES = 4 * 1024 * 1024
const FIRST_BYTES = 64 * 1024
const NEWLINE = 10
const SPACE = 32

/**
 * Buffer's own encoders, which `write` calls after it has checked and normalised its arguments.
 * Called directly: a render writes a few pieces per line, and the checks cost as much as the
 * copy. Present on Buffer.prototype in every Node.js line this package supports.
 */
interface Encoders {
  latin1Write: (text: string, offset: number, length: number) => number
  utf8Write: (text: string, offset: number, length: number) => number
}

/**
 * The bytes of a render, written in place as it goes, into a buffer reused from one render to
 * the next. A render built as a string costs a string per line, then a flattening copy of the
 * whole text and its UTF-8 encoding when it is sent: `perf` put that at 11% of the server's CPU
 * per scrape (~800 lines, 0.80 ms). Allocating a fresh buffer per render instead would make V8 run
 * a full mark-compact every ~150 scrapes (backing stores count against the old generation), so
 * the buffer is reused. Whoever takes a RenderBuffer gives it back (`finish`, `release`); its
 * bytes are only read synchronously before that (`view`).
 */
export class RenderBuffer {
  private buf: Buffer & Encoders
  /** Bytes written. */
  length = 0

  constructor () {
    this.buf = (spareBuffers.pop() ?? Buffer.allocUnsafeSlow(FIRST_BYTES)) as Buffer & Encoders
  }

  private room (bytes: number): void {
    if (this.length + bytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + bytes) size *= 2
    const bigger = Buffer.allocUnsafeSlow(size) as Buffer & Encoders
    this.buf.copy(bigger, 0, 0, this.length)
    this.buf = bigger
  }

  /** Appends text whose every character is ASCII (checked label text, numbers). */
  ascii (text: string): void {
    this.room(text.length)
    this.length += this.buf.latin1Write(text, this.length, text.length)
  }

  /** Appends any text, as UTF-8. */
  text (text: string): void {
    // At most three bytes per UTF-16 unit.
    this.room(text.length * 3)
    this.length += this.buf.utf8Write(text, this.length, this.buf.length - this.length)
  }

  byte (c: number): void {
    this.room(1)
    this.buf[this.length++] = c
  }

  /** Appends a sample value as the exposition formats write it; whole numbers digit by digit. */
  value (v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      this.ascii(formatValue(v))
      return
    }
    let digits = 1
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++
    this.room(digits)
    const buf = this.buf
    let at = this.length + digits
    this.length = at
    let x = v
    while (x >= 10) {
      const q = Math.floor(x / 10)
      buf[--at] = 48 + (x - q * 10)
      x = q
    }
    buf[at - 1] = 48 + x
  }

  /** The bytes written, valid until the buffer is given back: read them at once. */
  view (): Buffer {
    return this.buf.subarray(0, this.length)
  }

  /** A copy of the bytes written; the buffer is given back. */
  finish (): Buffer {
    const out = Buffer.allocUnsafeSlow(this.length)
    this.buf.copy(out, 0, 0, this.length)
    this.release()
    return out
  }

  /** Gives the buffer back for the next render. */
  release (): void {
    const buf = this.buf
    if (this.length < 0) return
    this.length = -1
    if (buf.length <= SPARE_MAX_BYTES && spareBuffers.length < 2) spareBuffers.push(buf)
  }
}

/** Items rendered by one shared writer: no sample object and no closure per series and scrape. */
export interface FastLines<T> {
  readonly items: readonly T[]
  /** Appends the item's lines (each ending in a newline) to `out`; returns how many. */
  readonly write: (out: RenderBuffer, om: boolean, item: T) => number
}

export type BadValueReporter = (metric: string, detail: string) => void

/** Lets timers and I/O (the app's requests) run between two chunks of a render. */
function yieldToEventLoop (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** What one render needs beside the family: the same for every family of a scrape. */
interface RenderTarget {
  readonly out: RenderBuffer
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
  target.out.text(`# HELP ${family} ${escapeHelp(f.help, om)}\n# TYPE ${family} ${type}\n`)
  return om && counter ? family + '_total' : f.name
}

/**
 * Writes the samples of `values` from index `from` until `budget` of them were seen; returns the
 * index to go on from (`values.length` when the family is done). The one sample loop of both
 * renderers.
 */
function writeSamples (target: RenderTarget, f: Family, values: readonly Sample[], sampleName: string, from: number, budget: number): number {
  const { om, defaults, out } = target
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
    out.text(s.metricName ?? sampleName)
    out.text(labels)
    out.byte(SPACE)
    out.value(value)
    if (om && ex !== undefined && ex !== null && ex.labelSet !== undefined && typeof ex.value === 'number') {
      out.text(' # ' + (formatLabels(ex.labelSet) || '{}') + ' ' + formatValue(ex.value) + (typeof ex.timestamp === 'number' ? ' ' + ex.timestamp : ''))
    }
    out.byte(NEWLINE)
  }
  return end
}

function targetFor (registry: Registry | null, format: ExpositionFormat, onBadValue: BadValueReporter): RenderTarget {
  const defaults = defaultLabelsOf(registry)
  return { out: new RenderBuffer(), om: format === 'openmetrics', defaults: Object.keys(defaults).length > 0 ? defaults : null, onBadValue }
}

function finish (target: RenderTarget): RenderBuffer {
  const out = target.out
  if (target.om) out.ascii('# EOF\n')
  // An empty Prometheus exposition is one newline, as it always was.
  else if (out.length === 0) out.byte(NEWLINE)
  return out
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
  const out = await renderBuffer(registry, format, onBadValue, chunkSamples)
  const text = out.view().toString('utf8')
  out.release()
  return text
}

/**
 * `render`, into a RenderBuffer: the caller reads its bytes (`view`, `finish`) and gives it back.
 * The endpoint compresses them from there without a copy.
 */
export async function renderBuffer (registry: Registry, format: ExpositionFormat, onBadValue: BadValueReporter, chunkSamples = RENDER_CHUNK_SAMPLES): Promise<RenderBuffer> {
  const target = targetFor(registry, format, onBadValue)
  try {
    await writeRegistry(target, registry, chunkSamples)
  } catch (err) {
    target.out.release()
    throw err
  }
  return finish(target)
}

async function writeRegistry (target: RenderTarget, registry: Registry, chunkSamples: number): Promise<void> {
  const metrics = registry.getMetricsAsArray() as unknown as Array<{ name: string, get (): Promise<Family> | Family, render?: () => Family }>
  const om = target.om
  const out = target.out
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
        sinceYield += write(out, om, items[i])
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
    if (!om) out.byte(NEWLINE)
  }
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
  try {
    for (const f of families) {
      const values = f.values ?? []
      writeSamples(target, f, values, writeHeader(target, f), 0, values.length)
      if (!target.om) target.out.byte(NEWLINE)
    }
    return finish(target).view().toString('utf8')
  } finally {
    target.out.release()
  }
}

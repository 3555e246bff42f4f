import type { Registry } from 'prom-client'

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

interface Sample {
  labels?: Record<string, unknown>
  value: unknown
  metricName?: string
  exemplar?: { labelSet?: Record<string, unknown>, value?: unknown, timestamp?: unknown } | null
}

interface Family {
  name: string
  help: string
  type: string
  values?: Sample[]
}

export type BadValueReporter = (metric: string, detail: string) => void

/**
 * Renders a registry in Prometheus text 0.0.4 or OpenMetrics 1.0 without touching the registry's
 * own content type: prom-client's Registry has one content type, and its OpenMetrics path renames
 * counters in place (drops `_total`), which would corrupt every later Prometheus-format scrape.
 * Exemplars are written only in OpenMetrics. A sample with a non-numeric value is left out and
 * reported; a metric whose collector throws fails the whole render with a CollectorError.
 */
export async function render (registry: Registry, format: ExpositionFormat, onBadValue: BadValueReporter): Promise<string> {
  const metrics = registry.getMetricsAsArray() as unknown as Array<{ name: string, get (): Promise<Family> | Family }>
  const families = await Promise.all(metrics.map(async (m) => {
    try {
      return await m.get()
    } catch (err) {
      throw new CollectorError(m.name, err)
    }
  }))
  const defaults = ((registry as unknown as { _defaultLabels?: Record<string, unknown> })._defaultLabels) ?? {}
  const hasDefaults = Object.keys(defaults).length > 0
  const om = format === 'openmetrics'
  const out: string[] = []
  for (const f of families) {
    const counter = f.type === 'counter'
    const family = om && counter ? f.name.replace(/_total$/, '') : f.name
    const type = f.type === 'counter' || f.type === 'gauge' || f.type === 'histogram' || f.type === 'summary' ? f.type : (om ? 'unknown' : 'untyped')
    out.push(`# HELP ${family} ${escapeHelp(f.help, om)}`)
    out.push(`# TYPE ${family} ${type}`)
    for (const s of f.values ?? []) {
      if (typeof s.value !== 'number') {
        onBadValue(f.name, `value ${typeof s.value} ${String(s.value)}`)
        continue
      }
      const name = s.metricName ?? (om && counter ? `${family}_total` : f.name)
      const labels = hasDefaults ? { ...defaults, ...s.labels } : s.labels
      let line = `${name}${formatLabels(labels)} ${formatValue(s.value)}`
      const ex = s.exemplar
      if (om && ex !== undefined && ex !== null && ex.labelSet !== undefined && typeof ex.value === 'number') {
        line += ` # ${formatLabels(ex.labelSet) || '{}'} ${formatValue(ex.value)}`
        if (typeof ex.timestamp === 'number') line += ` ${ex.timestamp}`
      }
      out.push(line)
    }
    if (!om) out.push('')
  }
  if (om) out.push('# EOF')
  return out.join('\n') + '\n'
}

function formatLabels (labels: Record<string, unknown> | undefined): string {
  if (labels === undefined) return ''
  let s = ''
  for (const k in labels) {
    const v = labels[k]
    if (v === undefined || v === null) continue
    s += `${s === '' ? '' : ','}${k}="${escapeLabel(String(v))}"`
  }
  return s === '' ? '' : `{${s}}`
}

const NEEDS_ESCAPE = /[\\\n"]/

function escapeLabel (v: string): string {
  // Almost no label value needs escaping; one test instead of three replaces on every sample.
  if (!NEEDS_ESCAPE.test(v)) return v
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function escapeHelp (v: string, om: boolean): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
  return om ? s.replace(/"/g, '\\"') : s
}

function formatValue (v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

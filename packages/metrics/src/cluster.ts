import cluster, { type Worker } from 'node:cluster'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { DEFAULT_METRICS_PATH, METRIC_NAMES, OPENMETRICS_CONTENT_TYPE, PLUGIN_NAME, PROMETHEUS_CONTENT_TYPE } from './constants'
import { challenge, createAuthCheck } from './endpoint'
import { metricsError, WARNING_CODES } from './errors'
import { collectFamilies, defaultLabelsOf, negotiate, renderFamilies, type ExpositionFormat, type Family, type Sample } from './exposition'
import type { MetricsAuth } from './types'

/**
 * Multi-process metrics for node:cluster. The primary owns the aggregate: a worker's /metrics
 * asks the primary (`scrape`), the primary asks every live worker for its collected families
 * (`collect`), waits at most `timeoutMs` per worker, aggregates and answers the rendered text
 * (`scraped`). Every message carries `o11y: PROTOCOL` and a request id; anything else on the IPC
 * channel is ignored, so the app can use the channel for its own messages.
 */
export const PROTOCOL = 'o11y-metrics/1'

/** Metrics the primary adds to every aggregate. */
export const CLUSTER_METRIC_NAMES = {
  workers: METRIC_NAMES.clusterWorkers,
  workersMissing: METRIC_NAMES.clusterWorkersMissing,
  workerUp: METRIC_NAMES.clusterWorkerUp,
  retiredWorkers: METRIC_NAMES.clusterRetiredWorkers
} as const

/** Label added to the series of metrics aggregated with the `worker` rule (runtime metrics by default). */
export const WORKER_LABEL = 'worker'
export const DEFAULT_CLUSTER_TIMEOUT_MS = 1000

/** Logged once at registration (warnings are coded like errors, listed in docs/errors.md). */
export const CLUSTER_NOT_WORKER_WARNING = {
  code: WARNING_CODES.CLUSTER_NOT_WORKER,
  message: 'option `cluster: true` in a process that is not a node:cluster worker: /metrics answers this process only'
} as const

export type AggregationRule = 'sum' | 'max' | 'min' | 'worker'
const RULES = new Set<string>(['sum', 'max', 'min', 'worker'])
/** Metrics that describe one process (prom-client's defaults, event-loop utilization): one series per worker. */
const RUNTIME_PREFIXES = ['process_', 'nodejs_']

export interface ClusterMetricsOptions {
  /** How long the primary waits for each worker's answer. Default 1000 ms. */
  timeoutMs?: number
  /** Aggregation rule per metric name, overriding the defaults (see the README's table). */
  rules?: Record<string, AggregationRule>
  /** Also serve the aggregate from the primary on this port (0 = any free port). */
  port?: number
  /** Host of the primary's server. Default 127.0.0.1. */
  host?: string
  /** Path on the primary's server. Default /metrics. */
  path?: string
  /** Credential required on the primary's server. */
  auth?: MetricsAuth
}

export interface ClusterMetrics {
  /** Asks every live worker and renders the aggregate, as a worker's /metrics would answer it. */
  render (format?: ExpositionFormat): Promise<string>
  /** Address of the primary's own server, once listening (after `ready()`); otherwise null. */
  address (): AddressInfo | null
  /** Resolves once the primary's server listens (at once when there is none). */
  ready (): Promise<void>
  /** Stops answering and closes the primary's server. */
  close (): Promise<void>
}

interface WireMessage {
  o11y: typeof PROTOCOL
  kind: 'scrape' | 'collect' | 'families' | 'scraped'
  id: number
  format?: ExpositionFormat
  families?: Family[]
  error?: string
  body?: string
}

function isWire (m: unknown): m is WireMessage {
  return m !== null && typeof m === 'object' && (m as { o11y?: unknown }).o11y === PROTOCOL &&
    typeof (m as { id?: unknown }).id === 'number' && typeof (m as { kind?: unknown }).kind === 'string'
}

// The default IPC serialization is JSON: NaN and ±Inf would arrive as null.
function encodeNumber (v: unknown): unknown {
  if (typeof v !== 'number' || Number.isFinite(v)) return v
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'
}
function decodeNumber (v: unknown): unknown {
  if (v === 'NaN') return NaN
  if (v === '+Inf') return Infinity
  if (v === '-Inf') return -Infinity
  return v
}

/** A worker's families with the registry's default labels applied, safe for JSON IPC. */
function encodeFamilies (families: Family[], defaults: Record<string, unknown>): Family[] {
  const hasDefaults = Object.keys(defaults).length > 0
  return families.map((f) => ({
    name: f.name,
    help: f.help,
    type: f.type,
    ...(typeof (f as { aggregator?: unknown }).aggregator === 'string' ? { aggregator: (f as { aggregator?: string }).aggregator } : {}),
    values: (f.values ?? []).map((s) => ({
      labels: hasDefaults ? { ...defaults, ...s.labels } : (s.labels ?? {}),
      value: encodeNumber(s.value),
      ...(s.metricName !== undefined ? { metricName: s.metricName } : {}),
      ...(s.exemplar != null ? { exemplar: { ...s.exemplar, value: encodeNumber(s.exemplar.value) } } : {})
    }))
  }))
}

function decodeFamilies (raw: unknown): Family[] | null {
  if (!Array.isArray(raw)) return null
  const out: Family[] = []
  for (const f of raw as unknown[]) {
    if (f === null || typeof f !== 'object') return null
    const { name, help, type, values, aggregator } = f as Record<string, unknown>
    if (typeof name !== 'string' || typeof help !== 'string' || typeof type !== 'string' || !Array.isArray(values)) return null
    const samples: Sample[] = []
    for (const s of values as unknown[]) {
      if (s === null || typeof s !== 'object') return null
      const { labels, value, metricName, exemplar } = s as Record<string, unknown>
      if (labels === null || typeof labels !== 'object' || (metricName !== undefined && typeof metricName !== 'string')) return null
      const ex = exemplar !== null && typeof exemplar === 'object' ? exemplar as NonNullable<Sample['exemplar']> : null
      samples.push({
        labels: labels as Record<string, unknown>,
        value: decodeNumber(value),
        ...(metricName !== undefined ? { metricName } : {}),
        ...(ex !== null ? { exemplar: { ...ex, value: decodeNumber(ex.value) } } : {})
      })
    }
    out.push({ name, help, type, values: samples, ...(typeof aggregator === 'string' ? { aggregator } : {}) } as Family)
  }
  return out
}

function sampleKey (s: Sample): string {
  const labels = s.labels ?? {}
  let key = s.metricName ?? ''
  for (const k of Object.keys(labels).sort()) key += `\u0000${k}\u0001${String(labels[k])}`
  return key
}

/** The rule for a family: the `rules` option, else per worker for runtime metrics, else sum for counters and histograms, else the gauge's `aggregator`. */
export function ruleFor (family: Pick<Family, 'name' | 'type'> & { aggregator?: unknown }, rules: Record<string, AggregationRule>): AggregationRule {
  const explicit = rules[family.name]
  if (explicit !== undefined) return explicit
  if (RUNTIME_PREFIXES.some((p) => family.name.startsWith(p))) return 'worker'
  if (family.type === 'counter' || family.type === 'histogram') return 'sum'
  if (family.type === 'gauge') {
    const a = family.aggregator
    return a === 'max' || a === 'min' || a === 'sum' ? a : 'worker'
  }
  // Summaries' quantiles cannot be added up; untyped values have no known meaning.
  return 'worker'
}

/** Additive across time: a sum that may only grow, carried over from dead and silent workers. */
function isMonotonic (type: string, rule: AggregationRule): boolean {
  return rule === 'sum' && (type === 'counter' || type === 'histogram')
}

interface Acc {
  name: string
  help: string
  type: string
  rule: AggregationRule
  samples: Map<string, Sample>
}

type ExemplarT = NonNullable<Sample['exemplar']>
function newer (a: ExemplarT | null | undefined, b: ExemplarT | null | undefined): ExemplarT | null | undefined {
  if (a == null) return b
  if (b == null) return a
  return (Number(b.timestamp) || 0) > (Number(a.timestamp) || 0) ? b : a
}

class Aggregate {
  readonly families = new Map<string, Acc>()
  constructor (private readonly rules: Record<string, AggregationRule>) {}

  family (f: Family & { aggregator?: unknown }): Acc {
    let acc = this.families.get(f.name)
    if (acc === undefined) {
      acc = { name: f.name, help: f.help, type: f.type, rule: ruleFor(f, this.rules), samples: new Map() }
      this.families.set(f.name, acc)
    }
    return acc
  }

  /** `worker` is the worker id for the per-worker rule; `monotonicOnly` for stale and retired data. */
  add (families: Family[], worker: number | null, monotonicOnly: boolean): void {
    for (const f of families) {
      const acc = this.family(f)
      if (acc.type !== f.type) continue // a worker running other code: first shape wins
      const monotonic = isMonotonic(acc.type, acc.rule)
      if (monotonicOnly && !monotonic) continue
      for (const s of f.values ?? []) {
        if (typeof s.value !== 'number') continue
        if (acc.rule === 'worker') {
          if (worker === null) continue
          const labeled: Sample = { ...s, labels: { ...s.labels, [WORKER_LABEL]: String(worker) } }
          acc.samples.set(sampleKey(labeled), labeled)
          continue
        }
        const key = sampleKey(s)
        const prev = acc.samples.get(key)
        if (prev === undefined) {
          acc.samples.set(key, { ...s })
          continue
        }
        const a = prev.value as number
        prev.value = acc.rule === 'sum' ? a + s.value : acc.rule === 'max' ? Math.max(a, s.value) : Math.min(a, s.value)
        const ex = newer(prev.exemplar, s.exemplar)
        if (ex != null) prev.exemplar = ex
      }
    }
  }

  /**
   * Keeps every summed counter and histogram series at or above the highest value it was ever
   * served at. Floating-point addition is not associative: when a worker's counts move from the
   * live answers to the retired sum, the same total added in another order can come out one ulp
   * lower (0.1 + 0.1 + 0.1 + 0.7 is 1, 0.1 + 0.1 + 0.7 + 0.1 is 0.9999999999999999), and
   * Prometheus reads any decrease of a counter as a reset. `highWater` lives as long as the primary;
   * its size is the number of summed series, which the workers' cardinality guards bound.
   */
  clampTo (highWater: Map<string, number>): void {
    for (const acc of this.families.values()) {
      if (!isMonotonic(acc.type, acc.rule)) continue
      for (const [key, s] of acc.samples) {
        const k = `${acc.name}\u0002${key}`
        const hw = highWater.get(k)
        const v = s.value as number
        if (hw !== undefined && v < hw) s.value = hw
        else highWater.set(k, v)
      }
    }
  }

  toFamilies (): Family[] {
    const out: Family[] = []
    for (const acc of this.families.values()) {
      out.push({ name: acc.name, help: acc.help, type: acc.type, values: [...acc.samples.values()] })
    }
    return out
  }
}

interface Collection {
  answers: Map<number, Family[]>
  missing: number[]
}

/**
 * Call in the primary (before or after forking). Workers register the plugin with `cluster: true`;
 * their /metrics then answers the aggregate of all workers.
 */
export function clusterMetrics (options: ClusterMetricsOptions = {}): ClusterMetrics {
  if (options === null || typeof options !== 'object') throw metricsError('CLUSTER', `got ${typeof options}`)
  if (!cluster.isPrimary) throw metricsError('CLUSTER', 'clusterMetrics() runs in the primary; workers register the plugin with `cluster: true`')
  const known = new Set(['timeoutMs', 'rules', 'port', 'host', 'path', 'auth'])
  for (const k of Object.keys(options)) if (!known.has(k)) throw metricsError('CLUSTER', `unknown option "${k}"`)
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLUSTER_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) throw metricsError('CLUSTER', `timeoutMs ${String(timeoutMs)}`)
  const rules = options.rules ?? {}
  if (rules === null || typeof rules !== 'object' || !Object.values(rules).every((r) => RULES.has(r as string))) {
    throw metricsError('CLUSTER', `rules must map metric names to one of sum, max, min, worker; got ${JSON.stringify(rules)}`)
  }
  const port = options.port ?? null
  if (port !== null && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)) throw metricsError('CLUSTER', `port ${String(port)}`)
  const host = options.host ?? '127.0.0.1'
  const path = options.path ?? DEFAULT_METRICS_PATH
  if (typeof host !== 'string' || host === '' || typeof path !== 'string' || !path.startsWith('/')) throw metricsError('CLUSTER', `host ${String(host)} / path ${String(path)}`)
  const auth = options.auth ?? null
  const check = createAuthCheck(auth)

  /** Last answer of each live worker: used, for counters and histograms only, when it misses a collection. */
  const last = new Map<number, Family[]>()
  /** Counters and histograms of workers that exited, summed: added to every aggregate so totals never go back. */
  const retired = new Aggregate(rules)
  const retiredIds = new Set<number>()
  /** Highest value served per summed series (see Aggregate.clampTo). */
  const highWater = new Map<string, number>()
  let nextId = 1
  let closed = false
  const pending = new Map<number, { worker: Worker, resolve: (f: Family[] | null) => void }>()
  let inFlight: Promise<Collection> | null = null

  function send (worker: Worker, msg: WireMessage): void {
    if (!worker.isConnected()) return
    try {
      worker.send(msg, (err: Error | null) => { if (err != null) settle(msg.id, null) })
    } catch {
      // o11y-gate-ignore error-observed: the channel closed between the check and the send; the worker counts as missing (o11y_metrics_cluster_workers_missing)
      settle(msg.id, null)
    }
  }

  function settle (id: number, families: Family[] | null): void {
    const p = pending.get(id)
    if (p === undefined) return
    pending.delete(id)
    p.resolve(families)
  }

  function askWorker (worker: Worker): Promise<Family[] | null> {
    return new Promise((resolve) => {
      const id = nextId++
      const timer = setTimeout(() => settle(id, null), timeoutMs)
      pending.set(id, { worker, resolve: (f) => { clearTimeout(timer); resolve(f) } })
      send(worker, { o11y: PROTOCOL, kind: 'collect', id })
    })
  }

  async function collect (): Promise<Collection> {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead())
    const answers = new Map<number, Family[]>()
    const missing: number[] = []
    await Promise.all(workers.map(async (w) => {
      const families = await askWorker(w)
      if (families === null) missing.push(w.id)
      else {
        answers.set(w.id, families)
        // An exit already handled put the last answer into `retired`; this one must not count twice.
        if (!retiredIds.has(w.id)) last.set(w.id, families)
      }
    }))
    missing.sort((a, b) => a - b)
    return { answers, missing }
  }

  /** Concurrent scrapes share one collection: a flood of scrapes costs one round of IPC. */
  function collectShared (): Promise<Collection> {
    inFlight ??= collect().finally(() => { inFlight = null })
    return inFlight
  }

  async function renderAggregate (format: ExpositionFormat = 'prometheus'): Promise<string> {
    const { answers, missing } = await collectShared()
    const agg = new Aggregate(rules)
    for (const [id, families] of [...answers].sort((a, b) => a[0] - b[0])) {
      if (!retiredIds.has(id)) agg.add(families, id, false)
    }
    for (const id of missing) {
      const stale = last.get(id)
      if (stale !== undefined) agg.add(stale, id, true)
    }
    agg.add(retired.toFamilies(), null, true)
    agg.clampTo(highWater)
    const own: Family[] = [
      { name: CLUSTER_METRIC_NAMES.workers, help: 'Live cluster workers the primary asked for their metrics in this scrape.', type: 'gauge', values: [{ labels: {}, value: answers.size + missing.length }] },
      { name: CLUSTER_METRIC_NAMES.workersMissing, help: `Workers that did not answer within ${timeoutMs} ms; their counters and histograms are their last answer, their gauges are left out.`, type: 'gauge', values: [{ labels: {}, value: missing.length }] },
      {
        name: CLUSTER_METRIC_NAMES.workerUp,
        help: 'Whether the worker answered this scrape in time (1) or not (0), by worker id.',
        type: 'gauge',
        values: [...[...answers.keys()].map((id) => ({ id, up: 1 })), ...missing.map((id) => ({ id, up: 0 }))]
          .sort((a, b) => a.id - b.id).map(({ id, up }) => ({ labels: { [WORKER_LABEL]: String(id) }, value: up }))
      },
      { name: CLUSTER_METRIC_NAMES.retiredWorkers, help: 'Workers that exited; their last counters and histograms stay in the totals.', type: 'counter', values: [{ labels: {}, value: retiredIds.size }] }
    ]
    return renderFamilies([...agg.toFamilies(), ...own], null, format, () => { /* workers dropped non-numeric values already */ })
  }

  function onMessage (worker: Worker, msg: unknown): void {
    if (closed || !isWire(msg)) return
    if (msg.kind === 'families') {
      const p = pending.get(msg.id)
      if (p === undefined || p.worker !== worker) return // late answer, or another worker's id
      settle(msg.id, typeof msg.error === 'string' ? null : decodeFamilies(msg.families))
    } else if (msg.kind === 'scrape') {
      const format: ExpositionFormat = msg.format === 'openmetrics' ? 'openmetrics' : 'prometheus'
      renderAggregate(format).then(
        (body) => send(worker, { o11y: PROTOCOL, kind: 'scraped', id: msg.id, body }),
        /* c8 ignore next */ (err: unknown) => send(worker, { o11y: PROTOCOL, kind: 'scraped', id: msg.id, error: String(err) })
      )
    }
  }

  function onExit (worker: Worker): void {
    const families = last.get(worker.id)
    last.delete(worker.id)
    retiredIds.add(worker.id)
    if (families !== undefined) retired.add(families, null, true)
    for (const [id, p] of pending) if (p.worker === worker) settle(id, null)
  }

  cluster.on('message', onMessage)
  cluster.on('exit', onExit)

  let server: Server | null = null
  let listening: Promise<void> = Promise.resolve()
  if (port !== null) {
    const srv = createServer(function o11yClusterMetricsServer (req: IncomingMessage, res: ServerResponse) {
      const url = req.url ?? '/'
      const q = url.indexOf('?')
      if ((q < 0 ? url : url.slice(0, q)) !== path || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found\n')
        return
      }
      if (check !== null && !check(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': challenge(auth as MetricsAuth), 'content-type': 'text/plain; charset=utf-8' }).end('Unauthorized\n')
        return
      }
      const accept = Array.isArray(req.headers.accept) ? req.headers.accept.join(',') : req.headers.accept
      const format = negotiate(accept)
      renderAggregate(format).then((body) => {
        res.writeHead(200, { 'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' })
          .end(req.method === 'HEAD' ? undefined : body)
      }, /* c8 ignore next */ () => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics aggregation failed\n')
      })
    })
    server = srv
    listening = new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(port, host, () => { srv.off('error', reject); resolve() })
    })
  }

  return {
    render: renderAggregate,
    address: () => (server !== null && server.listening ? server.address() as AddressInfo : null),
    ready: () => listening,
    async close () {
      closed = true
      cluster.off('message', onMessage)
      cluster.off('exit', onExit)
      for (const id of [...pending.keys()]) settle(id, null)
      if (server !== null) {
        const srv = server
        server = null
        await listening.catch(() => {})
        await new Promise<void>((resolve) => { srv.close(() => resolve()); srv.closeAllConnections() })
      }
    }
  }
}

export interface ClusterWorkerLink {
  /** The aggregate from the primary. Rejects when the primary does not answer within `timeoutMs`. */
  render (format: ExpositionFormat): Promise<string>
  close (): void
}

/**
 * The worker side, started by the plugin with `cluster: true`: answers the primary's `collect`
 * with this registry's families and turns /metrics into a `scrape` request to the primary.
 */
export function attachClusterWorker (registry: Registry, timeoutMs: number, onError: (err: unknown) => void): ClusterWorkerLink {
  const waiting = new Map<number, { resolve: (body: string) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }>()
  let nextId = 1
  const send = (msg: WireMessage): void => {
    (process.send as NonNullable<typeof process.send>)(msg, undefined, undefined, (err: Error | null) => { if (err != null) onError(err) })
  }

  function onMessage (msg: unknown): void {
    if (!isWire(msg)) return
    if (msg.kind === 'collect') {
      const id = msg.id
      collectFamilies(registry).then(
        (families) => send({ o11y: PROTOCOL, kind: 'families', id, families: encodeFamilies(families, defaultLabelsOf(registry)) }),
        (err: unknown) => {
          onError(err)
          send({ o11y: PROTOCOL, kind: 'families', id, error: String(err) })
        }
      )
    } else if (msg.kind === 'scraped') {
      const w = waiting.get(msg.id)
      if (w === undefined) return
      waiting.delete(msg.id)
      clearTimeout(w.timer)
      if (typeof msg.body === 'string') w.resolve(msg.body)
      else w.reject(new Error(`${PLUGIN_NAME}: the cluster primary failed to aggregate: ${String(msg.error)}`))
    }
  }
  process.on('message', onMessage)

  return {
    render (format) {
      return new Promise<string>((resolve, reject) => {
        const id = nextId++
        const timer = setTimeout(() => {
          waiting.delete(id)
          reject(new Error(`${PLUGIN_NAME}: the cluster primary did not answer within ${timeoutMs} ms (is clusterMetrics() running in the primary?)`))
        }, timeoutMs)
        waiting.set(id, { resolve, reject, timer })
        try {
          send({ o11y: PROTOCOL, kind: 'scrape', id, format })
        } catch (err) {
          clearTimeout(timer)
          waiting.delete(id)
          reject(err as Error)
        }
      })
    },
    close () {
      process.off('message', onMessage)
      for (const [id, w] of waiting) {
        clearTimeout(w.timer)
        w.reject(new Error(`${PLUGIN_NAME}: closed`))
        waiting.delete(id)
      }
    }
  }
}

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import YAML from 'yaml'
import { startOnFreePort, stopAndRemove, waitFor, type WaitForOptions } from './process'

/** One series of an instant query (`resultType: vector`). */
export interface PromSample {
  metric: Record<string, string>
  value: [number, string]
}

/** One series of a range query (`resultType: matrix`). */
export interface PromSeries {
  metric: Record<string, string>
  values: Array<[number, string]>
}

export interface PromQueryResult {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string'
  result: any
}

export interface PromExemplarSeries {
  seriesLabels: Record<string, string>
  exemplars: Array<{ labels: Record<string, string>, value: string, timestamp: number }>
}

export interface PromRule {
  name: string
  query: string
  type: 'alerting' | 'recording'
  health: string
  lastError?: string
  state?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  alerts?: PromAlert[]
}

export interface PromRuleGroup {
  name: string
  file: string
  rules: PromRule[]
}

export interface PromAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  state: 'pending' | 'firing' | 'inactive'
  activeAt?: string
  value?: string
}

/** Error of the Prometheus HTTP API (`status: "error"`); `errorType` is e.g. `bad_data` for a parse error. */
export class PrometheusApiError extends Error {
  readonly errorType: string
  readonly expr?: string
  constructor (errorType: string, message: string, expr?: string) {
    super(`Prometheus API error (${errorType}): ${message}${expr === undefined ? '' : ` in ${expr}`}`)
    this.name = 'PrometheusApiError'
    this.errorType = errorType
    this.expr = expr
  }
}

export interface StartPrometheusOptions {
  /** Prometheus configuration as YAML text. Exactly one of `configYaml` and `configFile` is needed. */
  configYaml?: string
  /** Path of a configuration file; it is read and written into the temporary directory. */
  configFile?: string
  /** Rule files (absolute or relative to the current directory) added to `rule_files`. */
  ruleFiles?: string[]
  /** Extra command-line arguments. */
  args?: string[]
  /** Binary to start (default `prometheus`). */
  binary?: string
  /** How long to wait for `/-/ready` (default 20000 ms). */
  readyTimeoutMs?: number
  /** Extra environment variables of the process (e.g. for `${VAR}` in external labels). */
  env?: Record<string, string>
}

export interface PrometheusHandle {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string
  port: number
  /** Temporary directory holding the config and the TSDB; removed by `stop()`. */
  dir: string
  /** Path of the configuration file Prometheus runs with. */
  configFile: string
  /** Instant query; rejects with `PrometheusApiError` when the expression does not parse or fails. */
  query: (expr: string, time?: number) => Promise<PromQueryResult>
  /** Range query (`start`/`end` in Unix seconds, `step` in seconds). */
  queryRange: (expr: string, start: number, end: number, step: number) => Promise<PromQueryResult>
  /** `/api/v1/query_exemplars` (`start`/`end` in Unix seconds). */
  queryExemplars: (expr: string, start: number, end: number) => Promise<PromExemplarSeries[]>
  /** Rule groups loaded by Prometheus with their health and last error. */
  rules: () => Promise<PromRuleGroup[]>
  /** Pending and firing alerts. */
  alerts: () => Promise<PromAlert[]>
  /** Scrape targets (`/api/v1/targets` data). */
  targets: () => Promise<{ activeTargets: Array<{ labels: Record<string, string>, health: string, lastError: string, scrapeUrl: string }> }>
  /** Polls `fn` until it returns a truthy value, which is returned. */
  waitFor: <T>(fn: () => Promise<T> | T, options?: WaitForOptions) => Promise<NonNullable<T>>
  /** Everything Prometheus wrote to stderr so far (useful in failure messages). */
  logs: () => string
  /** Stops the process (SIGTERM, then SIGKILL) and removes the temporary directory. Idempotent. */
  stop: () => Promise<void>
  /** Kills the process at once (SIGKILL: a crash, nothing flushed) and removes the temporary directory. */
  kill: () => Promise<void>
}

async function api<T> (url: string, path: string, params: Record<string, string> | undefined, expr?: string): Promise<T> {
  const res = params === undefined
    ? await fetch(`${url}${path}`)
    : await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString()
    })
  const text = await res.text()
  let body: { status: string, data?: T, errorType?: string, error?: string }
  try {
    body = JSON.parse(text)
  } catch {
    throw new PrometheusApiError(`http_${res.status}`, text.slice(0, 500), expr)
  }
  if (body.status !== 'success') {
    throw new PrometheusApiError(body.errorType ?? `http_${res.status}`, body.error ?? text.slice(0, 500), expr)
  }
  return body.data as T
}

function buildConfig (options: StartPrometheusOptions): string {
  let text: string
  if (options.configYaml !== undefined) text = options.configYaml
  else if (options.configFile !== undefined) text = readFileSync(options.configFile, 'utf8')
  else throw new Error('startPrometheus: one of the options configYaml or configFile is required')
  const ruleFiles = options.ruleFiles ?? []
  const baseDir = options.configFile === undefined ? process.cwd() : resolve(options.configFile, '..')
  const doc = (YAML.parse(text) ?? {}) as { rule_files?: string[] }
  // The config is moved into a temporary directory: make relative rule paths absolute so they keep
  // pointing where the author meant.
  const existing = (doc.rule_files ?? []).map((f) => isAbsolute(f) ? f : resolve(baseDir, f))
  const extra = ruleFiles.map((f) => resolve(f))
  if (existing.length + extra.length > 0) doc.rule_files = [...existing, ...extra]
  return YAML.stringify(doc)
}

/**
 * Starts a real Prometheus (Debian's `prometheus` 2.42 or any on PATH) on 127.0.0.1 with a
 * temporary storage directory and exemplar storage enabled, and waits until it is ready.
 * Always call `stop()` (e.g. in `t.teardown`).
 */
export async function startPrometheus (options: StartPrometheusOptions): Promise<PrometheusHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-prometheus-'))
  const configFile = join(dir, 'prometheus.yml')
  try {
    writeFileSync(configFile, buildConfig(options))
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const binary = options.binary ?? 'prometheus'
  const { managed, port, url } = await startOnFreePort(binary, dir, options.readyTimeoutMs, (port) => [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    '--enable-feature=exemplar-storage',
    ...(options.args ?? [])
  ], options.env)
  const handle: PrometheusHandle = {
    url,
    port,
    dir,
    configFile,
    query: async (expr, time) => await api<PromQueryResult>(url, '/api/v1/query',
      time === undefined ? { query: expr } : { query: expr, time: String(time) }, expr),
    queryRange: async (expr, start, end, step) => await api<PromQueryResult>(url, '/api/v1/query_range',
      { query: expr, start: String(start), end: String(end), step: String(step) }, expr),
    queryExemplars: async (expr, start, end) => await api<PromExemplarSeries[]>(url, '/api/v1/query_exemplars',
      { query: expr, start: String(start), end: String(end) }, expr) ?? [],
    rules: async () => (await api<{ groups: PromRuleGroup[] }>(url, '/api/v1/rules', undefined)).groups,
    alerts: async () => (await api<{ alerts: PromAlert[] }>(url, '/api/v1/alerts', undefined)).alerts,
    targets: async () => await api(url, '/api/v1/targets', undefined),
    waitFor,
    logs: managed.output,
    ...stopAndRemove(managed, dir)
  }
  return handle
}

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import YAML from 'yaml'

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

export interface WaitForOptions {
  /** Give up after this many milliseconds (default 30000). */
  timeoutMs?: number
  /** Poll interval in milliseconds (default 250). */
  intervalMs?: number
  /** Describes what is awaited, used in the timeout error. */
  description?: string
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
}

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort (): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolvePort(port))
    })
  })
}

/** Polls `fn` until it returns a truthy value. */
export async function waitFor<T> (fn: () => Promise<T> | T, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const intervalMs = options.intervalMs ?? 250
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value) return value as NonNullable<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.description ?? 'condition'}${why}`)
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

interface Managed {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

function launch (binary: string, args: string[]): Managed {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output += chunk.toString('utf8')
    // Keep memory bounded on long runs; the tail is what explains failures.
    if (output.length > 200_000) output = output.slice(-100_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolveExit) => {
    child.on('exit', (code) => resolveExit(code))
    child.on('error', (err) => {
      output += `\nspawn ${binary} failed: ${err.message}`
      resolveExit(-1)
    })
  })
  return { child, output: () => output, exited }
}

async function stopProcess (managed: Managed): Promise<void> {
  const { child } = managed
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await managed.exited
    clearTimeout(timer)
  }
}

async function waitReady (url: string, managed: Managed, name: string, timeoutMs: number): Promise<void> {
  let exitCode: number | null | undefined
  void managed.exited.then((code) => { exitCode = code })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${name} exited (code ${String(exitCode)}) before it was ready:\n${tail(managed.output())}`)
    }
    const res = await fetch(`${url}/-/ready`).catch(() => undefined)
    await res?.arrayBuffer()
    if (res?.status === 200) return
    if (Date.now() >= deadline) {
      throw new Error(`${name} was not ready at ${url}/-/ready after ${timeoutMs} ms:\n${tail(managed.output())}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Start `binary` on a free loopback port and wait until it is ready. Another process may take the
 * port between freePort() and the bind: then it tries again, up to three times. On failure the
 * temporary folder `dir` is removed and the error (with the binary's output) is thrown.
 */
async function launchReady (binary: string, dir: string, readyTimeoutMs: number | undefined, argsFor: (port: number) => string[]): Promise<{ managed: Managed, port: number, url: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const managed = launch(binary, argsFor(port))
    try {
      await waitReady(url, managed, binary, readyTimeoutMs ?? 20_000)
      return { managed, port, url }
    } catch (err) {
      await stopProcess(managed)
      if (attempt < 3 && managed.output().includes('address already in use')) continue
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  }
}

/** An idempotent stop: kills the process once and removes its temporary folder. */
function stopOnce (managed: Managed, dir: string): () => Promise<void> {
  let stopped: Promise<void> | undefined
  return async () => {
    stopped ??= (async () => {
      await stopProcess(managed)
      rmSync(dir, { recursive: true, force: true })
    })()
    await stopped
  }
}

function tail (text: string, lines = 30): string {
  return text.trim().split('\n').slice(-lines).join('\n')
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
  const { managed, port, url } = await launchReady(binary, dir, options.readyTimeoutMs, (port) => [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    '--enable-feature=exemplar-storage',
    ...(options.args ?? [])
  ])
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
    stop: stopOnce(managed, dir)
  }
  return handle
}

export interface StartAlertmanagerOptions {
  /** Alertmanager configuration as YAML text. Exactly one of `configYaml` and `configFile` is needed. */
  configYaml?: string
  configFile?: string
  args?: string[]
  /** Binary to start (default `prometheus-alertmanager`, the Debian name; upstream calls it `alertmanager`). */
  binary?: string
  readyTimeoutMs?: number
}

/** An alert as posted to or returned by the Alertmanager v2 API. */
export interface AmAlert {
  labels: Record<string, string>
  annotations?: Record<string, string>
  startsAt?: string
  endsAt?: string
  generatorURL?: string
  status?: { state: 'active' | 'suppressed' | 'unprocessed', inhibitedBy: string[], silencedBy: string[] }
  receivers?: Array<{ name: string }>
}

export interface AlertmanagerHandle {
  url: string
  port: number
  dir: string
  configFile: string
  /** POST /api/v2/alerts. */
  postAlerts: (alerts: AmAlert[]) => Promise<void>
  /** GET /api/v2/alerts (all states, including inhibited ones). */
  alerts: () => Promise<AmAlert[]>
  waitFor: <T>(fn: () => Promise<T> | T, options?: WaitForOptions) => Promise<NonNullable<T>>
  logs: () => string
  stop: () => Promise<void>
}

/**
 * Starts a real Alertmanager (Debian's `prometheus-alertmanager` 0.25) on 127.0.0.1 with clustering
 * off and a temporary storage directory, and waits until it is ready.
 */
export async function startAlertmanager (options: StartAlertmanagerOptions): Promise<AlertmanagerHandle> {
  let text: string
  if (options.configYaml !== undefined) text = options.configYaml
  else if (options.configFile !== undefined) text = readFileSync(options.configFile, 'utf8')
  else throw new Error('startAlertmanager: one of the options configYaml or configFile is required')
  const dir = mkdtempSync(join(tmpdir(), 'o11y-alertmanager-'))
  const configFile = join(dir, 'alertmanager.yml')
  writeFileSync(configFile, text)
  const binary = options.binary ?? 'prometheus-alertmanager'
  const { managed, port, url } = await launchReady(binary, dir, options.readyTimeoutMs, (port) => [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    ...(options.args ?? [])
  ])
  return {
    url,
    port,
    dir,
    configFile,
    postAlerts: async (alerts) => {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts)
      })
      if (res.status !== 200) throw new Error(`Alertmanager rejected alerts: ${res.status} ${await res.text()}`)
    },
    alerts: async () => {
      const res = await fetch(`${url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`)
      if (res.status !== 200) throw new Error(`Alertmanager GET alerts: ${res.status} ${await res.text()}`)
      return await res.json() as AmAlert[]
    },
    waitFor,
    logs: managed.output,
    stop: stopOnce(managed, dir)
  }
}

/** One notification as Alertmanager's webhook receiver sends it. */
export interface WebhookNotification {
  receiver: string
  status: 'firing' | 'resolved'
  groupLabels: Record<string, string>
  commonLabels: Record<string, string>
  commonAnnotations: Record<string, string>
  alerts: Array<{ status: string, labels: Record<string, string>, annotations: Record<string, string> }>
  /** Path the notification was posted to (lets one receiver stand in for several). */
  path: string
}

export interface WebhookReceiver {
  /** Base URL, e.g. `http://127.0.0.1:40000`; post to any path under it. */
  url: string
  notifications: WebhookNotification[]
  waitFor: <T>(fn: () => Promise<T> | T, options?: WaitForOptions) => Promise<NonNullable<T>>
  close: () => Promise<void>
}

/** An HTTP server on 127.0.0.1:0 that records Alertmanager webhook notifications. */
export async function startWebhookReceiver (): Promise<WebhookReceiver> {
  const notifications: WebhookNotification[] = []
  const server = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<WebhookNotification, 'path'>
        notifications.push({ ...body, path: req.url ?? '/' })
        res.writeHead(200).end('ok')
      } catch {
        res.writeHead(400).end('bad json')
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    notifications,
    waitFor,
    close: async () => {
      if (!server.listening) return
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}

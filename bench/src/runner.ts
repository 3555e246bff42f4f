import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { createHistogram } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { processCpuMicros, processRssBytes } from './proc'
import { EXTRA_ROUTES_ENV, type FromServer, type ToServer } from './protocol'
import type { ScenarioId } from './scenarios'
import { linearFit } from './stats'

/** The compiled server entry (also when this module runs from src/ under tap's TypeScript loader). */
export const SERVER_ENTRY = resolve(__dirname, '..', 'dist', 'server.js')
export const ORDER_URL_PATH = '/api/orders/42'
export const HEALTH_URL_PATH = '/health'

export interface StartOptions {
  /** CPU to pin the server to with taskset; undefined: not pinned. */
  cpu?: number
  extraRoutes?: number
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[]
  /** Milliseconds to wait for the server to listen. */
  startTimeoutMs?: number
}

/** A scenario server process and its IPC channel. */
export class ServerProcess {
  readonly port: number
  readonly pid: number
  private readonly child: ChildProcess
  private readonly waiting = new Map<string, Array<(m: FromServer) => void>>()
  private exited: Promise<number | null>

  private constructor (child: ChildProcess, port: number, pid: number, exited: Promise<number | null>) {
    this.child = child
    this.port = port
    this.pid = pid
    this.exited = exited
    child.on('message', (m: FromServer) => {
      const list = this.waiting.get(m.type)
      const next = list?.shift()
      if (next !== undefined) next(m)
    })
  }

  static async start (scenario: ScenarioId, options: StartOptions = {}): Promise<ServerProcess> {
    const nodeArgs = ['--expose-gc', ...(options.nodeArgs ?? []), SERVER_ENTRY, scenario]
    const [command, args] = options.cpu === undefined
      ? [process.execPath, nodeArgs]
      : ['taskset', ['-c', String(options.cpu), process.execPath, ...nodeArgs]]
    const child = spawn(command, args, {
      // The server's stdout goes to our stderr: stdout is for the report (and TAP under tests).
      stdio: ['ignore', 2, 'inherit', 'ipc'],
      env: { ...process.env, [EXTRA_ROUTES_ENV]: String(options.extraRoutes ?? 0) }
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const ready = await new Promise<{ port: number, pid: number }>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`@o11y/bench: scenario ${scenario} did not start within ${options.startTimeoutMs ?? 30000} ms`))
      }, options.startTimeoutMs ?? 30000)
      child.on('message', function onReady (m: FromServer) {
        if (m.type === 'ready') {
          clearTimeout(timer)
          child.off('message', onReady)
          resolve({ port: m.port, pid: m.pid })
        } else if (m.type === 'error') {
          clearTimeout(timer)
          reject(new Error(`@o11y/bench: scenario ${scenario} failed to start: ${m.message}`))
        }
      })
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`@o11y/bench: scenario ${scenario} exited with code ${code} before listening`))
      })
    })
    return new ServerProcess(child, ready.port, ready.pid, exited)
  }

  private ask<T extends FromServer['type']> (message: ToServer, reply: T, timeoutMs = 30000): Promise<Extract<FromServer, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`@o11y/bench: no "${reply}" answer from server ${this.pid}`)), timeoutMs)
      const list = this.waiting.get(reply) ?? []
      list.push((m) => { clearTimeout(timer); resolve(m as Extract<FromServer, { type: T }>) })
      this.waiting.set(reply, list)
      this.child.send(message)
    })
  }

  /** Full GC in the server, then its heapUsed. */
  heap (): Promise<{ heapUsed: number, rss: number }> {
    return this.ask({ type: 'gc' }, 'heap')
  }

  async stats (): Promise<Record<string, number>> {
    return (await this.ask({ type: 'stats' }, 'stats')).stats
  }

  cpuMicros (): number {
    return processCpuMicros(this.pid)
  }

  rssBytes (): number {
    return processRssBytes(this.pid)
  }

  /** Graceful stop (app.close, tracing shutdown); killed after the timeout. */
  async stop (timeoutMs = 10000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    try {
      this.child.send({ type: 'stop' } satisfies ToServer)
    } catch {
      this.child.kill('SIGKILL')
    }
    await this.exited
    clearTimeout(timer)
  }

  url (path: string): string {
    return `http://127.0.0.1:${this.port}${path}`
  }
}

export interface LoadOptions {
  connections: number
  /** Seconds. */
  duration: number
}

export interface LoadResult {
  requests: number
  elapsedMs: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

/**
 * Drive GET /api/orders/42 with autocannon (in this process) for `duration` seconds. Latencies
 * are recorded from autocannon's per-response times in microseconds (its own histogram keeps
 * whole milliseconds, too coarse for sub-millisecond answers).
 */
export async function load (server: ServerProcess, options: LoadOptions, onResponse?: () => void): Promise<LoadResult> {
  const latencies = createHistogram()
  const started = process.hrtime.bigint()
  const instance = autocannon({
    url: server.url(ORDER_URL_PATH),
    connections: options.connections,
    pipelining: 1,
    duration: options.duration
  }) as unknown as Promise<autocannon.Result> & { on (event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void }
  instance.on('response', (_client, _status, _bytes, ms) => {
    latencies.record(Math.max(1, Math.round(ms * 1000)))
    onResponse?.()
  })
  const result = await instance
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
  const count = latencies.count
  return {
    requests: result.requests.total,
    elapsedMs,
    p50: count > 0 ? latencies.percentile(50) / 1000 : Number.NaN,
    p99: count > 0 ? latencies.percentile(99) / 1000 : Number.NaN,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx
  }
}

export interface Measurement {
  scenario: ScenarioId
  round: number
  requests: number
  cpuMicros: number
  cpuPerRequestMicros: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  rssBytes: number
  errors: number
  non2xx: number
  /** Spans exported per request served (warm-up and window), tracing scenarios only. */
  spansPerRequest?: number
  serverStats: Record<string, number>
}

export interface MeasureOptions extends LoadOptions {
  warmup: number
  cpu?: number
}

/** Start a scenario, warm it up, measure one window, stop it. */
export async function measure (scenario: ScenarioId, round: number, options: MeasureOptions): Promise<Measurement> {
  const server = await ServerProcess.start(scenario, { cpu: options.cpu })
  try {
    const warm = await load(server, { connections: options.connections, duration: options.warmup })
    const cpuBefore = server.cpuMicros()
    const window = await load(server, options)
    const cpuAfter = server.cpuMicros()
    const rssBytes = server.rssBytes()
    const serverStats = await server.stats()
    const cpuMicros = cpuAfter - cpuBefore
    const served = warm.requests + window.requests
    return {
      scenario,
      round,
      requests: window.requests,
      cpuMicros,
      cpuPerRequestMicros: window.requests > 0 ? cpuMicros / window.requests : Number.NaN,
      requestsPerSecond: window.requests / (window.elapsedMs / 1000),
      p50Ms: window.p50,
      p99Ms: window.p99,
      rssBytes,
      errors: warm.errors + window.errors,
      non2xx: warm.non2xx + window.non2xx,
      ...(serverStats.spansExported !== undefined && served > 0 ? { spansPerRequest: serverStats.spansExported / served } : {}),
      serverStats
    }
  } finally {
    await server.stop()
  }
}

export interface HeapSample {
  seconds: number
  requests: number
  heapUsed: number
  rss: number
}

export interface HeapRun {
  scenario: ScenarioId
  duration: number
  samples: HeapSample[]
  /** Bytes of post-GC heap per request served, least squares over the samples after the first `skip` seconds. */
  bytesPerRequest: number
  /** Post-GC heap growth from the first used sample to the last. */
  growthBytes: number
  requests: number
}

/**
 * Load a scenario for `duration` seconds and every `every` seconds force a full GC in the server
 * and read heapUsed: a leak shows as a positive slope against the requests served.
 */
export async function heapRun (scenario: ScenarioId, options: { duration: number, every: number, skip: number, connections: number, cpu?: number }): Promise<HeapRun> {
  const server = await ServerProcess.start(scenario, { cpu: options.cpu })
  try {
    let responses = 0
    const samples: HeapSample[] = []
    const started = Date.now()
    const running = load(server, { connections: options.connections, duration: options.duration }, () => { responses++ })
    const first = await server.heap()
    samples.push({ seconds: 0, requests: 0, ...first })
    let done = false
    void running.finally(() => { done = true })
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, options.every * 1000))
      if (done) break
      const requests = responses
      const heap = await server.heap()
      samples.push({ seconds: (Date.now() - started) / 1000, requests, ...heap })
    }
    await running
    const used = samples.filter((s) => s.seconds >= options.skip)
    const fit = linearFit(used.map((s) => ({ x: s.requests, y: s.heapUsed })))
    return {
      scenario,
      duration: options.duration,
      samples,
      bytesPerRequest: fit.slope,
      growthBytes: used.length > 1 ? used[used.length - 1]!.heapUsed - used[0]!.heapUsed : Number.NaN,
      requests: responses
    }
  } finally {
    await server.stop()
  }
}

import { execFileSync } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createHistogram } from 'node:perf_hooks'
import { startProcess, waitUntilReady, type ManagedProcess } from '@o11y/test-utils'
import autocannon from 'autocannon'
import { processCpuMicros, processRssBytes } from './proc'
import { EXTRA_ROUTES_ENV, type FromServer, type ToServer } from './protocol'
import { SCENARIOS, type ScenarioId } from './scenarios'
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

/**
 * A named pipe (FIFO) for a server's stdout, read and discarded here, as a container runtime or a
 * log shipper reads a service's stdout. A FIFO rather than Node's `stdio: 'pipe'`, which is a
 * socket pair: loggers treat the two differently, and what services get is a pipe. The reading
 * costs CPU on the runner's side only, the same for every stdout scenario.
 */
export class StdoutDrain {
  /** Bytes read (and discarded) so far. */
  bytes = 0
  /** Write end, handed to the child as its fd 1; closed here once the child has it. */
  writeFd: number | undefined
  private readonly dir: string
  private readonly reader: Socket

  constructor () {
    this.dir = mkdtempSync(join(tmpdir(), 'o11y-bench-stdout-'))
    const path = join(this.dir, 'stdout')
    execFileSync('mkfifo', [path])
    // Read end first and non-blocking (a FIFO's open otherwise waits for the other end).
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
    this.writeFd = openSync(path, constants.O_WRONLY)
    this.reader = new Socket({ fd: readFd, readable: true, writable: false })
    this.reader.on('data', (chunk: Buffer) => { this.bytes += chunk.length })
    this.reader.on('error', () => {})
  }

  /** The child holds the write end now: drop ours, so the reader sees EOF when the child exits. */
  handedOver (): void {
    if (this.writeFd !== undefined) closeSync(this.writeFd)
    this.writeFd = undefined
  }

  close (): void {
    this.handedOver()
    this.reader.destroy()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A scenario server process and its IPC channel. */
export class ServerProcess {
  readonly port: number
  readonly pid: number
  /** The stdout pipe of a `stdout` scenario. */
  readonly drain: StdoutDrain | undefined
  private readonly process: ManagedProcess
  private readonly waiting = new Map<string, Array<(m: FromServer) => void>>()

  private constructor (managed: ManagedProcess, port: number, pid: number, drain: StdoutDrain | undefined) {
    this.process = managed
    this.port = port
    this.pid = pid
    this.drain = drain
    managed.child.on('message', (m: FromServer) => {
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
    // (An unknown id is refused by the server process itself.)
    const drain = SCENARIOS.find((s) => s.id === scenario)?.stdout === true ? new StdoutDrain() : undefined
    const managed = startProcess(command, args, {
      // The server's stdout goes to our stderr (stdout is for the report, and TAP under tests),
      // or to the pipe we drain.
      stdio: ['ignore', drain?.writeFd ?? 2, 'inherit', 'ipc'],
      env: { ...process.env, [EXTRA_ROUTES_ENV]: String(options.extraRoutes ?? 0) },
      // A graceful stop (app.close, tracing shutdown) gets this long before SIGKILL.
      killAfterMs: 10_000
    })
    drain?.handedOver()
    let ready: { port: number, pid: number } | undefined
    let failure: string | undefined
    const onStart = (m: FromServer): void => {
      if (m.type === 'ready') ready = { port: m.port, pid: m.pid }
      else if (m.type === 'error') failure = m.message
    }
    managed.child.on('message', onStart)
    try {
      await waitUntilReady(managed, () => {
        if (failure !== undefined) throw new Error(`@o11y/bench: scenario ${scenario} failed to start: ${failure}`)
        return ready !== undefined
      }, { timeoutMs: options.startTimeoutMs ?? 30_000, intervalMs: 20, what: `@o11y/bench: scenario ${scenario}` })
    } catch (err) {
      await managed.stop('SIGKILL')
      drain?.close()
      throw err
    } finally {
      managed.child.off('message', onStart)
    }
    return new ServerProcess(managed, (ready as { port: number }).port, (ready as { pid: number }).pid, drain)
  }

  /** Pid of the process the runner started (a cluster scenario's primary; `pid` is then its worker). */
  get primaryPid (): number {
    return this.process.child.pid ?? this.pid
  }

  private ask<T extends FromServer['type']> (message: ToServer, reply: T, timeoutMs = 30000): Promise<Extract<FromServer, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`@o11y/bench: no "${reply}" answer from server ${this.pid}`)), timeoutMs)
      const list = this.waiting.get(reply) ?? []
      list.push((m) => { clearTimeout(timer); resolve(m as Extract<FromServer, { type: T }>) })
      this.waiting.set(reply, list)
      this.process.child.send(message)
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

  /** Graceful stop (app.close, tracing shutdown) asked over IPC; killed 10 s later if still running. */
  async stop (): Promise<void> {
    try {
      await this.process.stop(() => this.process.child.send({ type: 'stop' } satisfies ToServer))
    } finally {
      this.drain?.close()
    }
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
    if (server.drain !== undefined) serverStats.stdoutBytes = server.drain.bytes
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

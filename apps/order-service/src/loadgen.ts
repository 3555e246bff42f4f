// Mixed traffic for the order service: pnpm loadgen -- --url http://127.0.0.1:3000 --duration 30 --rate 20
import { randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { CURRENCIES, ROUTES } from './constants.js'

export type Operation = 'create' | 'get' | 'list' | 'checkout' | 'cancel' | 'not_found' | 'invalid'

/**
 * One cycle of the traffic mix, repeated: mostly creates, reads and checkouts, some lists and
 * cancels, a few 404s and 400s. Deterministic, so a short run still covers every kind.
 */
export const MIX: readonly Operation[] = [
  'create', 'get', 'checkout', 'list', 'create', 'get', 'checkout', 'not_found',
  'create', 'get', 'list', 'checkout', 'cancel', 'create', 'get', 'invalid',
  'create', 'checkout', 'get', 'list'
]

export interface LoadOptions {
  url: string
  durationSeconds: number
  rate: number
  /** Requests in flight at most; beyond it ticks are skipped and counted. */
  concurrency?: number
  /** Called about once a second with a progress line. */
  onProgress?: (line: string) => void
  /** Per-request timeout. */
  timeoutMs?: number
  /** Stop after this many requests even when the duration has not run out. */
  maxRequests?: number
}

export interface LoadSummary {
  sent: number
  skipped: number
  durationSeconds: number
  byOperation: Record<string, Record<string, number>>
  byStatus: Record<string, number>
  networkErrors: number
  latencyMs: { p50: number, p90: number, p99: number, max: number }
}

const ITEMS = ['BOOK-1', 'MUG-2', 'SHIRT-3', 'PEN-4', 'LAMP-5', 'DESK-6']

function pick<T> (list: readonly T[], n: number): T {
  return list[n % list.length] as T
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

export async function runLoad (options: LoadOptions): Promise<LoadSummary> {
  const base = options.url.replace(/\/+$/, '')
  const concurrency = options.concurrency ?? 50
  const timeoutMs = options.timeoutMs ?? 10_000
  const pending: string[] = []
  const paid: string[] = []
  const known: string[] = []
  const byOperation: Record<string, Record<string, number>> = {}
  const byStatus: Record<string, number> = {}
  const latencies: number[] = []
  let sent = 0
  let skipped = 0
  let inFlight = 0
  let networkErrors = 0
  let n = 0
  let cancels = 0

  async function call (op: Operation, method: string, path: string, body?: unknown): Promise<{ status: number, json?: any }> {
    const started = performance.now()
    let status = 'error'
    try {
      const res = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs)
      })
      status = String(res.status)
      const text = await res.text()
      latencies.push(performance.now() - started)
      return { status: res.status, json: text ? JSON.parse(text) : undefined }
    } catch {
      // o11y-gate-ignore error-observed: network errors are counted and shown in the load generator's summary
      networkErrors++
      return { status: 0 }
    } finally {
      const counts = (byOperation[op] ??= {})
      counts[status] = (counts[status] ?? 0) + 1
      byStatus[status] = (byStatus[status] ?? 0) + 1
    }
  }

  async function one (op: Operation, i: number): Promise<void> {
    switch (op) {
      case 'create': {
        const lines = 1 + (i % 3)
        const items = Array.from({ length: lines }, (_, k) => ({ sku: pick(ITEMS, i + k), quantity: 1 + ((i + k) % 4), unitPriceCents: 199 + ((i * 37 + k * 101) % 9800) }))
        const res = await call(op, 'POST', ROUTES.orders, { customerId: `c-${i % 25}`, currency: pick(CURRENCIES, i), items })
        if (res.status === 201 && res.json?.id) {
          pending.push(res.json.id)
          known.push(res.json.id)
          if (known.length > 500) known.shift()
        }
        return
      }
      case 'get': {
        const id = known.length > 0 ? pick(known, i * 7) : randomUUID()
        await call(op, 'GET', `${ROUTES.orders}/${id}`)
        return
      }
      case 'list': {
        const res = await call(op, 'GET', `${ROUTES.orders}?customerId=c-${i % 25}&limit=5`)
        if (res.json?.nextCursor) await call(op, 'GET', `${ROUTES.orders}?customerId=c-${i % 25}&limit=5&cursor=${res.json.nextCursor}`)
        return
      }
      case 'checkout': {
        // Without a pending order yet (start of a run) this is a 404.
        const id = pending.shift()
        const res = await call(op, 'POST', `${ROUTES.orders}/${id ?? randomUUID()}/checkout`)
        if (res.status === 200 && id) paid.push(id)
        return
      }
      case 'cancel': {
        // Alternately a pending order (200) and a paid one (409).
        const id = cancels++ % 2 === 0 ? pending.shift() : paid.shift()
        await call(op, 'POST', `${ROUTES.orders}/${id ?? randomUUID()}/cancel`)
        return
      }
      case 'not_found':
        await call(op, 'GET', `${ROUTES.orders}/${randomUUID()}`)
        return
      case 'invalid':
        await call(op, 'POST', ROUTES.orders, i % 2 === 0 ? { customerId: '', currency: 'XXX', items: [] } : { customerId: 'c-1', currency: 'EUR', items: [{ sku: 'BOOK-1', quantity: 0, unitPriceCents: 100 }], extra: true })
    }
  }

  const started = performance.now()
  const endAt = started + options.durationSeconds * 1000
  const running = new Set<Promise<void>>()
  let lastReport = started
  let reportedSent = 0

  const maxRequests = options.maxRequests ?? Infinity
  while (performance.now() < endAt && sent < maxRequests) {
    const due = Math.floor(((performance.now() - started) / 1000) * options.rate)
    while (sent + skipped < due && sent < maxRequests) {
      if (inFlight >= concurrency) {
        skipped++
        continue
      }
      const op = pick(MIX, n)
      const i = n++
      sent++
      inFlight++
      const p = one(op, i).finally(() => {
        inFlight--
        running.delete(p)
      })
      running.add(p)
    }
    const now = performance.now()
    if (options.onProgress && now - lastReport >= 1000) {
      const s = summarize()
      options.onProgress(`[${((now - started) / 1000).toFixed(0).padStart(3)}s] sent ${sent} (+${sent - reportedSent}) ${statusLine(s.byStatus)} in-flight ${inFlight} p50 ${s.latencyMs.p50}ms p99 ${s.latencyMs.p99}ms`)
      lastReport = now
      reportedSent = sent
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await Promise.all(running)
  return summarize((performance.now() - started) / 1000)

  function summarize (durationSeconds = options.durationSeconds): LoadSummary {
    const sorted = [...latencies].sort((a, b) => a - b)
    const round = (x: number): number => Math.round(x * 10) / 10
    return {
      sent,
      skipped,
      durationSeconds: round(durationSeconds),
      byOperation,
      byStatus,
      networkErrors,
      latencyMs: { p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? 0) }
    }
  }
}

function statusLine (byStatus: Record<string, number>): string {
  return Object.keys(byStatus).sort().map((k) => `${k}:${byStatus[k]}`).join(' ')
}

export function formatSummary (s: LoadSummary): string {
  const lines = [
    `sent ${s.sent} requests in ${s.durationSeconds}s (${(s.sent / Math.max(s.durationSeconds, 0.001)).toFixed(1)}/s), skipped ${s.skipped} (concurrency limit), network errors ${s.networkErrors}`,
    `status codes: ${statusLine(s.byStatus)}`,
    `latency: p50 ${s.latencyMs.p50}ms  p90 ${s.latencyMs.p90}ms  p99 ${s.latencyMs.p99}ms  max ${s.latencyMs.max}ms`,
    'by operation:'
  ]
  for (const op of Object.keys(s.byOperation).sort()) lines.push(`  ${op.padEnd(10)} ${statusLine(s.byOperation[op] ?? {})}`)
  return lines.join('\n')
}

export interface CliResult {
  exitCode: number
  output: string
}

export const USAGE = 'usage: loadgen [--url http://127.0.0.1:3000] [--duration seconds] [--rate requests-per-second] [--concurrency n] [--max-requests n]'

/** Parses the arguments and runs; never exits. 0: done, 1: no request succeeded, 2: usage error. */
export async function cli (argv: string[], log: (line: string) => void): Promise<number> {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:3000' },
        duration: { type: 'string', default: '30' },
        rate: { type: 'string', default: '20' },
        concurrency: { type: 'string', default: '50' },
        'max-requests': { type: 'string' },
        help: { type: 'boolean', default: false }
      }
    }))
  } catch (err) {
    log(`${(err as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help) {
    log(USAGE)
    return 0
  }
  const durationSeconds = Number(values.duration)
  const rate = Number(values.rate)
  const concurrency = Number(values.concurrency)
  const maxRequests = values['max-requests'] === undefined ? undefined : Number(values['max-requests'])
  if (!(durationSeconds > 0) || !(rate > 0) || !Number.isInteger(concurrency) || concurrency < 1 || (maxRequests !== undefined && !(Number.isInteger(maxRequests) && maxRequests > 0)) || !/^https?:\/\//.test(values.url)) {
    log(`invalid arguments: --duration and --rate must be positive numbers, --concurrency and --max-requests positive integers, --url an http(s) URL\n${USAGE}`)
    return 2
  }
  log(`loadgen: ${rate} req/s for ${durationSeconds}s against ${values.url}`)
  const summary = await runLoad({ url: values.url, durationSeconds, rate, concurrency, maxRequests, onProgress: log })
  log(formatSummary(summary))
  const ok = Object.entries(summary.byStatus).filter(([k]) => k.startsWith('2')).reduce((sum, [, v]) => sum + v, 0)
  if (ok === 0) {
    log(`no request succeeded: is the service running at ${values.url}?`)
    return 1
  }
  return 0
}

/* c8 ignore start */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv.slice(2).filter((a) => a !== '--'), (line) => process.stdout.write(`${line}\n`)).then((code) => { process.exitCode = code })
}
/* c8 ignore stop */

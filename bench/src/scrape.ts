import { ServerProcess } from './runner'
import type { ScenarioId } from './scenarios'
import { median } from './stats'

/** The Accept header Prometheus 2.x sends when scraping (OpenMetrics preferred). */
export const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

export interface ScrapeFormatResult {
  accept: string
  contentType: string
  series: number
  bytes: number
  /** Wall time of one scrape seen by the client (request to last byte), median. */
  medianMs: number
  minMs: number
  /** Server CPU per scrape (from /proc, over all timed scrapes). */
  cpuMsPerScrape: number
}

export interface ScrapeResult {
  scenario: ScenarioId
  targetSeries: number
  routesHit: number
  /** Cluster workers (cluster-scrape.ts); absent for a single process. */
  workers?: number
  formats: ScrapeFormatResult[]
}

/** Sample lines (series) of a text exposition: every non-empty line that is not a comment. */
export function countSeries (text: string): number {
  let n = 0
  for (const line of text.split('\n')) {
    if (line.length > 0 && line[0] !== '#') n++
  }
  return n
}

async function scrape (server: ServerProcess, accept?: string): Promise<{ text: string, contentType: string, ms: number }> {
  const started = process.hrtime.bigint()
  const response = await fetch(server.url('/metrics'), { headers: accept === undefined ? {} : { accept } })
  const text = await response.text()
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (response.status !== 200) throw new Error(`@o11y/bench: /metrics answered ${response.status}`)
  return { text, contentType: response.headers.get('content-type') ?? '', ms }
}

async function hit (server: ServerProcess, route: number): Promise<void> {
  const response = await fetch(server.url(`/api/r${route}/1`))
  await response.arrayBuffer()
  if (response.status !== 200) throw new Error(`@o11y/bench: /api/r${route}/1 answered ${response.status}`)
}

/**
 * Grow the metric series of a metrics scenario to `targetSeries` (by requesting distinct routes,
 * each adds one set of request series), then time `iterations` scrapes in the plain text format
 * and with Prometheus' Accept header.
 */
export async function measureScrape (scenario: ScenarioId, options: { targetSeries: number, iterations: number, warmups?: number, maxRoutes: number, cpu?: number }): Promise<ScrapeResult> {
  const server = await ServerProcess.start(scenario, { cpu: options.cpu, extraRoutes: options.maxRoutes })
  try {
    // Request distinct routes until the exposition has the target number of series: each route
    // adds one set of request series (how many depends on the plugin), runtime metrics add a few.
    let routesHit = 0
    await hit(server, routesHit++)
    let before = countSeries((await scrape(server)).text)
    await hit(server, routesHit++)
    let series = countSeries((await scrape(server)).text)
    for (let i = 0; i < 20 && series < options.targetSeries && routesHit < options.maxRoutes; i++) {
      const perRoute = Math.max(1, series - before)
      const more = Math.max(1, Math.min(options.maxRoutes - routesHit, Math.floor((options.targetSeries - series) / perRoute)))
      for (let n = 0; n < more; n++) await hit(server, routesHit++)
      before = series
      series = countSeries((await scrape(server)).text)
      if (more > 1) before = series - perRoute
    }
    const formats = await timeFormats((accept) => scrape(server, accept), () => server.cpuMicros(), options.iterations, options.warmups ?? 10)
    return { scenario, targetSeries: options.targetSeries, routesHit, formats }
  } finally {
    await server.stop()
  }
}

/** One fetched /metrics answer and how long it took. */
export interface ScrapeAnswer { text: string, contentType: string, ms: number }

/**
 * Times `iterations` scrapes for each Accept header (after `warmups` untimed ones): wall time per
 * scrape and the server's CPU per scrape, read from `cpuMicros` (microseconds) around the loop.
 */
export async function timeFormats (get: (accept: string | undefined) => Promise<ScrapeAnswer>, cpuMicros: () => number,
  iterations: number, warmups: number): Promise<ScrapeFormatResult[]> {
  const formats: ScrapeFormatResult[] = []
  for (const accept of [undefined, PROMETHEUS_ACCEPT]) {
    for (let i = 0; i < warmups; i++) await get(accept)
    const times: number[] = []
    let last: ScrapeAnswer = { text: '', contentType: '', ms: 0 }
    const cpuBefore = cpuMicros()
    for (let i = 0; i < iterations; i++) {
      last = await get(accept)
      times.push(last.ms)
    }
    formats.push({
      accept: accept === undefined ? '(none)' : 'Prometheus 2.x default',
      contentType: last.contentType,
      series: countSeries(last.text),
      bytes: Buffer.byteLength(last.text),
      medianMs: median(times),
      minMs: Math.min(...times),
      cpuMsPerScrape: (cpuMicros() - cpuBefore) / 1000 / iterations
    })
  }
  return formats
}

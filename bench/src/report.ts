import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { MachineInfo } from './machine'
import type { HeapRun, Measurement } from './runner'
import { SCENARIOS, type ScenarioId } from './scenarios'
import type { ScrapeFormatResult, ScrapeResult } from './scrape'
import type { StartupResult } from './startup'
import { spread, type Spread } from './stats'

export interface Parameters {
  quick: boolean
  rounds: number
  warmup: number
  duration: number
  connections: number
  pinned: boolean
  heapDuration: number
  scrapeSeries: number
  scrapeIterations: number
  /** Untimed scrapes per format before the timed ones (absent in results written before it was recorded: 10). */
  scrapeWarmups?: number
  startupRepetitions: number
}

export interface ScenarioSummary {
  scenario: ScenarioId
  label: string
  rounds: number
  /** Absolute medians (with min and max) over the rounds. */
  cpuPerRequestMicros: Spread
  requestsPerSecond: Spread
  p50Ms: Spread
  p99Ms: Spread
  rssMiB: Spread
  /** Per round against bare Fastify of the same round, then median, min, max. */
  overheadMicros: Spread
  cpuRatio: Spread
  rpsRatio: Spread
  p50Ratio: Spread
  p99Ratio: Spread
  rssRatio: Spread
  spansPerRequest?: number
  errors: number
  /** The server's counters (spans, log lines, OTLP exports, stdout bytes), summed over rounds. */
  stats: Record<string, number>
}

export interface Target {
  name: string
  goal: string
  measured: string
  met: boolean | undefined
}

/** A pair of figures shown side by side, with no goal of its own. */
export interface Comparison {
  name: string
  measured: string
}

export interface BenchReport {
  machine: MachineInfo
  loadAverageAfter: number[]
  parameters: Parameters
  summaries: ScenarioSummary[]
  targets: Target[]
  comparisons: Comparison[]
  heap: HeapRun[]
  scrape: ScrapeResult[]
  startup?: StartupResult
  measurements: Measurement[]
}

function byRound (measurements: readonly Measurement[], scenario: ScenarioId): Map<number, Measurement> {
  return new Map(measurements.filter((m) => m.scenario === scenario).map((m) => [m.round, m]))
}

/** Per-round values of `f(scenario measurement, bare measurement)` for rounds that have both. */
function paired (measurements: readonly Measurement[], scenario: ScenarioId, reference: ScenarioId, f: (m: Measurement, ref: Measurement) => number): number[] {
  const mine = byRound(measurements, scenario)
  const refs = byRound(measurements, reference)
  const out: number[] = []
  for (const [round, m] of mine) {
    const ref = refs.get(round)
    if (ref !== undefined) out.push(f(m, ref))
  }
  return out
}

export function summarize (measurements: readonly Measurement[]): ScenarioSummary[] {
  const present = SCENARIOS.filter((s) => measurements.some((m) => m.scenario === s.id))
  return present.map((s) => {
    const mine = measurements.filter((m) => m.scenario === s.id)
    const spans = mine.map((m) => m.spansPerRequest).filter((v): v is number => v !== undefined)
    const stats: Record<string, number> = {}
    for (const m of mine) {
      for (const [k, v] of Object.entries(m.serverStats)) stats[k] = (stats[k] ?? 0) + v
    }
    const ratio = (f: (m: Measurement) => number): Spread => spread(paired(measurements, s.id, 'bare', (m, ref) => f(m) / f(ref)))
    return {
      scenario: s.id,
      label: s.label,
      rounds: mine.length,
      cpuPerRequestMicros: spread(mine.map((m) => m.cpuPerRequestMicros)),
      requestsPerSecond: spread(mine.map((m) => m.requestsPerSecond)),
      p50Ms: spread(mine.map((m) => m.p50Ms)),
      p99Ms: spread(mine.map((m) => m.p99Ms)),
      rssMiB: spread(mine.map((m) => m.rssBytes / 2 ** 20)),
      overheadMicros: spread(paired(measurements, s.id, 'bare', (m, ref) => m.cpuPerRequestMicros - ref.cpuPerRequestMicros)),
      cpuRatio: ratio((m) => m.cpuPerRequestMicros),
      rpsRatio: ratio((m) => m.requestsPerSecond),
      p50Ratio: ratio((m) => m.p50Ms),
      p99Ratio: ratio((m) => m.p99Ms),
      rssRatio: ratio((m) => m.rssBytes),
      ...(spans.length > 0 ? { spansPerRequest: spans.reduce((a, b) => a + b, 0) / spans.length } : {}),
      errors: mine.reduce((n, m) => n + m.errors + m.non2xx, 0),
      stats
    }
  })
}

/** Per round: overhead of `ours` over bare divided by overhead of `peer` over bare. */
export function overheadFraction (measurements: readonly Measurement[], ours: ScenarioId, peer: ScenarioId): Spread {
  const bare = byRound(measurements, 'bare')
  const mine = byRound(measurements, ours)
  const theirs = byRound(measurements, peer)
  const values: number[] = []
  for (const [round, m] of mine) {
    const ref = bare.get(round)
    const p = theirs.get(round)
    if (ref === undefined || p === undefined) continue
    values.push((m.cpuPerRequestMicros - ref.cpuPerRequestMicros) / (p.cpuPerRequestMicros - ref.cpuPerRequestMicros))
  }
  return spread(values)
}

/** Per round: CPU per request of `a` divided by that of `b`. */
export function cpuRatio (measurements: readonly Measurement[], a: ScenarioId, b: ScenarioId): Spread {
  const theirs = byRound(measurements, b)
  const values: number[] = []
  for (const [round, m] of byRound(measurements, a)) {
    const p = theirs.get(round)
    if (p !== undefined && p.cpuPerRequestMicros > 0) values.push(m.cpuPerRequestMicros / p.cpuPerRequestMicros)
  }
  return spread(values)
}

/** Per round: CPU per request of `a` minus that of `b`. */
export function cpuDifference (measurements: readonly Measurement[], a: ScenarioId, b: ScenarioId): Spread {
  const theirs = byRound(measurements, b)
  const values: number[] = []
  for (const [round, m] of byRound(measurements, a)) {
    const p = theirs.get(round)
    if (p !== undefined) values.push(m.cpuPerRequestMicros - p.cpuPerRequestMicros)
  }
  return spread(values)
}

export const HEAP_SLOPE_LIMIT = 1
export const HEAP_MIN_SECONDS = 30
/** Issue 17's start-up goal: added time to listen, ours / auto-instrumentations', and ours at most this many seconds. */
export const STARTUP_RATIO_LIMIT = 0.4
export const STARTUP_ADDED_LIMIT_S = 0.3

/** CPU milliseconds per 1,000 sample lines of one scrape. */
export function cpuPer1000Lines (f: ScrapeFormatResult): number {
  return f.series > 0 ? f.cpuMsPerScrape / f.series * 1000 : Number.NaN
}

function spansOf (measurements: readonly Measurement[], id: ScenarioId): string {
  const spans = measurements.filter((m) => m.scenario === id).map((m) => m.spansPerRequest).filter((v): v is number => v !== undefined)
  return spans.length === 0 ? 'n/a' : fmt(spans.reduce((a, b) => a + b, 0) / spans.length, 2)
}

/**
 * The goals of issue 17 (each a median of per-round figures, with the rounds' min-max), the
 * cluster goal of issue 15, for whatever the run measured; a goal whose scenarios did not run is
 * left out.
 */
export function evaluateTargets (measurements: readonly Measurement[], heap: readonly HeapRun[], scrape: readonly ScrapeResult[], startup?: StartupResult): Target[] {
  const targets: Target[] = []
  const has = (id: ScenarioId): boolean => measurements.some((m) => m.scenario === id)
  const fraction = (name: string, ours: ScenarioId, peer: ScenarioId, limit: number, goal: string, spans = false): void => {
    const f = overheadFraction(measurements, ours, peer)
    if (!Number.isFinite(f.median)) return
    targets.push({
      name,
      goal,
      measured: `${fmt(f.median, 2)} (rounds ${fmt(f.min, 2)}-${fmt(f.max, 2)})` + (spans ? `; spans/req ${spansOf(measurements, ours)} vs ${spansOf(measurements, peer)}` : ''),
      met: f.median <= limit
    })
  }
  const full = summarize(measurements).find((s) => s.scenario === 'o11y-full')
  if (full !== undefined && has('bare')) {
    targets.push({
      name: 'full suite CPU per request, x bare',
      goal: '<= 2.5',
      measured: `${fmt(full.cpuRatio.median, 2)} (rounds ${fmt(full.cpuRatio.min, 2)}-${fmt(full.cpuRatio.max, 2)})`,
      met: full.cpuRatio.median <= 2.5
    })
  }
  fraction('full suite overhead / peers combined', 'o11y-full', 'peers-combined', 0.3, '<= 0.30')
  fraction('@o11y/tracing overhead / OTel peers (same sampling)', 'o11y-tracing', 'otel-peers', 0.4, '<= 0.40', true)
  fraction('@o11y/tracing overhead / dd-trace', 'o11y-tracing', 'dd-trace', 0.5, '<= 0.50', true)
  fraction('@o11y/logging overhead / Fastify pino logging, file (/dev/null)', 'o11y-logging', 'pino', 0.5, '<= 0.50')
  fraction('@o11y/logging overhead / Fastify pino logging, stdout (pipe)', 'o11y-logging-stdout', 'pino-stdout', 0.5, '<= 0.50')
  fraction('@o11y/metrics overhead / fastify-metrics', 'o11y-metrics', 'fastify-metrics', 0.3, '<= 0.30')
  const ours = scrape.find((s) => s.scenario === 'o11y-metrics')
  const peer = scrape.find((s) => s.scenario === 'fastify-metrics')
  if (ours !== undefined && peer !== undefined) {
    // Same Accept header on both sides; server CPU decides (wall time on a shared 2-CPU machine
    // mostly measures who else was running), per 1,000 sample lines since the two expositions
    // never have exactly the same number of lines.
    const pairs = ours.formats.map((o) => ({ o, p: peer.formats.find((f) => f.accept === o.accept) }))
      .filter((x): x is { o: ScrapeFormatResult, p: ScrapeFormatResult } => x.p !== undefined)
    const ratios = pairs.map(({ o, p }) => cpuPer1000Lines(o) / cpuPer1000Lines(p))
    targets.push({
      name: '/metrics server CPU per 1,000 sample lines / fastify-metrics\'',
      goal: '<= 0.50 (each Accept header)',
      measured: pairs.map(({ o, p }, i) => `${o.accept}: ${fmt(ratios[i]!, 2)} (${fmt(cpuPer1000Lines(o), 2)} vs ${fmt(cpuPer1000Lines(p), 2)} ms)`).join('; '),
      met: pairs.length > 0 && ratios.every((r) => r <= 0.5)
    })
  }
  const fullHeap = heap.find((h) => h.scenario === 'o11y-full')
  if (fullHeap !== undefined) {
    // A short run is still warming up (JIT code, caches): its slope says nothing about leaks.
    const judged = fullHeap.duration >= HEAP_MIN_SECONDS
    targets.push({
      name: 'retained heap slope, full suite',
      goal: `< ${HEAP_SLOPE_LIMIT} B/req (runs of ${HEAP_MIN_SECONDS} s or more)`,
      measured: `${fmt(fullHeap.bytesPerRequest, 3)} B/req over ${fullHeap.requests} requests in ${fullHeap.duration} s${judged ? '' : ' (too short to judge)'}`,
      met: judged ? Math.abs(fullHeap.bytesPerRequest) < HEAP_SLOPE_LIMIT : undefined
    })
  }
  const oursStart = startup?.summaries.find((s) => s.variant === 'o11y-tracing')
  const theirsStart = startup?.summaries.find((s) => s.variant === 'otel-auto')
  if (startup !== undefined && oursStart !== undefined && theirsStart !== undefined) {
    const r = startup.addedTimeRatio
    const seconds = (ms: number): string => `${ms >= 0 ? '+' : ''}${fmt(ms / 1000, 2)} s`
    targets.push({
      name: 'start-up: time to listen added by --import @o11y/tracing/register / by auto-instrumentations-node/register (Fastify + pg)',
      goal: `<= ${fmt(STARTUP_RATIO_LIMIT, 2)}, and ours not above +${fmt(STARTUP_ADDED_LIMIT_S, 2)} s`,
      measured: `${seconds(oursStart.addedMs.median)} / ${seconds(theirsStart.addedMs.median)} = ${fmt(r.median, 2)} (repetitions ${fmt(r.min, 2)}-${fmt(r.max, 2)}); peak RSS ${fmtSigned(oursStart.addedRssMiB)} MiB vs ${fmtSigned(theirsStart.addedRssMiB)} MiB`,
      met: r.median <= STARTUP_RATIO_LIMIT && oursStart.addedMs.median <= STARTUP_ADDED_LIMIT_S * 1000
    })
  }
  // Issue 15: a request in a cluster worker may cost at most 10% more than in a single process.
  // Judged on the whole CPU per request, not on the overheads against bare: the single-process
  // overhead of @o11y/metrics is a few µs, within the rounds' noise, and a ratio over a divisor
  // near zero (or below it) can say anything.
  const clusterRatio = cpuRatio(measurements, 'o11y-metrics-cluster', 'o11y-metrics')
  if (Number.isFinite(clusterRatio.median)) {
    targets.push({
      name: 'CPU per request in a cluster worker / single process, @o11y/metrics (issue 15)',
      goal: '<= 1.10',
      measured: `${fmt(clusterRatio.median, 2)} (rounds ${fmt(clusterRatio.min, 2)}-${fmt(clusterRatio.max, 2)})`,
      met: clusterRatio.median <= 1.1
    })
  }
  return targets
}

/** Figures the issues ask to see next to each other, with no goal of their own. */
export function evaluateComparisons (measurements: readonly Measurement[], scrape: readonly ScrapeResult[]): Comparison[] {
  const out: Comparison[] = []
  const summaries = summarize(measurements)
  /** `a` against `b`: each one's overhead over bare, and `a - b` per round. */
  const side = (name: string, a: ScenarioId, b: ScenarioId, extra = ''): void => {
    const sa = summaries.find((s) => s.scenario === a)
    const sb = summaries.find((s) => s.scenario === b)
    if (sa === undefined || sb === undefined) return
    const d = cpuDifference(measurements, a, b)
    out.push({
      name,
      measured: `overhead ${fmtSigned(sa.overheadMicros)} vs ${fmtSigned(sb.overheadMicros)} µs/req; difference ${fmtSigned(d)} µs/req${extra}`
    })
  }
  side('@o11y/metrics: OTLP push (every 1 s) beside /metrics (o11y-metrics-otlp) vs scrape only (o11y-metrics)', 'o11y-metrics-otlp', 'o11y-metrics')
  const otlp = summaries.find((s) => s.scenario === 'o11y-logging-otlp')
  const records = otlp === undefined
    ? ''
    : `; OTLP records exported ${otlp.stats.otlpLogRecordsExported ?? 0}, dropped ${otlp.stats.otlpLogRecordsDropped ?? 0}, failed ${otlp.stats.otlpLogRecordsFailed ?? 0} (all rounds)`
  side('@o11y/logging: stdout + OTLP export (o11y-logging-otlp) vs stdout only (o11y-logging-stdout)', 'o11y-logging-otlp', 'o11y-logging-stdout', records)
  const stdout = summaries.find((s) => s.scenario === 'o11y-logging-stdout')
  const lines = stdout === undefined ? '' : `; lines written ${stdout.stats.linesWritten ?? 0}, dropped ${stdout.stats.linesDropped ?? 0} (all rounds)`
  side('@o11y/logging: stdout pipe vs /dev/null', 'o11y-logging-stdout', 'o11y-logging', lines)
  side('Fastify pino logging: stdout pipe vs /dev/null', 'pino-stdout', 'pino')
  side('@o11y/tracing: lifecycleSpans: true vs default', 'o11y-tracing-lifecycle', 'o11y-tracing', `; spans/req ${spansOf(measurements, 'o11y-tracing-lifecycle')} vs ${spansOf(measurements, 'o11y-tracing')}`)
  const lifecycle = overheadFraction(measurements, 'o11y-tracing-lifecycle', 'otel-peers')
  if (Number.isFinite(lifecycle.median)) {
    out.push({
      name: '@o11y/tracing with lifecycleSpans / OTel peers (three spans per request each)',
      measured: `${fmt(lifecycle.median, 2)} of the peers' overhead (rounds ${fmt(lifecycle.min, 2)}-${fmt(lifecycle.max, 2)}); spans/req ${spansOf(measurements, 'o11y-tracing-lifecycle')} vs ${spansOf(measurements, 'otel-peers')}`
    })
  }
  const cluster = scrape.find((s) => s.scenario === 'o11y-metrics-cluster')
  if (cluster !== undefined) {
    out.push({
      name: `cluster /metrics scrape, ${cluster.workers ?? '?'} workers x ${cluster.targetSeries} label sets (issue 15)`,
      measured: cluster.formats.map((f) => `${f.accept}: ${fmt(f.medianMs, 2)} ms wall (median, min ${fmt(f.minMs, 2)}), ${fmt(f.cpuMsPerScrape, 2)} ms CPU of the process group, ${f.series} lines`).join('; ')
    })
  }
  return out
}

export function fmt (value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
}

function fmtSpread (s: Spread, digits: number, suffix = ''): string {
  if (!Number.isFinite(s.median)) return 'n/a'
  return `${fmt(s.median, digits)}${suffix} (${fmt(s.min, digits)}-${fmt(s.max, digits)})`
}

function fmtSigned (s: Spread, digits = 1): string {
  if (!Number.isFinite(s.median)) return 'n/a'
  const sign = (v: number): string => (v >= 0 ? '+' : '') + fmt(v, digits)
  return `${sign(s.median)} (${sign(s.min)} to ${sign(s.max)})`
}

type Table = { head: string[], rows: string[][] }

export function ratioTable (summaries: readonly ScenarioSummary[]): Table {
  return {
    head: ['Scenario', 'CPU µs/req', 'Overhead µs/req', 'CPU × bare', 'req/s × bare', 'p50 × bare', 'p99 × bare', 'RSS × bare', 'spans/req'],
    rows: summaries.map((s) => [
      s.label,
      fmt(s.cpuPerRequestMicros.median, 1),
      s.scenario === 'bare' ? '-' : fmtSigned(s.overheadMicros),
      s.scenario === 'bare' ? '1' : fmtSpread(s.cpuRatio, 2),
      s.scenario === 'bare' ? '1' : fmtSpread(s.rpsRatio, 2),
      s.scenario === 'bare' ? '1' : fmtSpread(s.p50Ratio, 2),
      s.scenario === 'bare' ? '1' : fmtSpread(s.p99Ratio, 2),
      s.scenario === 'bare' ? '1' : fmtSpread(s.rssRatio, 2),
      s.spansPerRequest === undefined ? '-' : fmt(s.spansPerRequest, 2)
    ])
  }
}

export function absoluteTable (summaries: readonly ScenarioSummary[]): Table {
  return {
    head: ['Scenario', 'CPU µs/req', 'req/s', 'p50 ms', 'p99 ms', 'RSS MiB', 'errors'],
    rows: summaries.map((s) => [
      s.label,
      fmtSpread(s.cpuPerRequestMicros, 1),
      fmtSpread(s.requestsPerSecond, 0),
      fmt(s.p50Ms.median, 1),
      fmt(s.p99Ms.median, 1),
      fmt(s.rssMiB.median, 0),
      String(s.errors)
    ])
  }
}

export function targetTable (targets: readonly Target[]): Table {
  return {
    head: ['Target', 'Goal', 'Measured', 'Met'],
    rows: targets.map((t) => [t.name, t.goal, t.measured, t.met === undefined ? '?' : t.met ? 'yes' : 'NO'])
  }
}

export function heapTable (heap: readonly HeapRun[]): Table {
  return {
    head: ['Scenario', 'Duration s', 'Requests', 'Post-GC heap first → last (MiB)', 'Growth KiB', 'Slope B/request'],
    rows: heap.map((h) => {
      const first = h.samples[0]
      const last = h.samples[h.samples.length - 1]
      return [
        SCENARIOS.find((s) => s.id === h.scenario)?.label ?? h.scenario,
        String(h.duration),
        String(h.requests),
        first === undefined || last === undefined ? 'n/a' : `${fmt(first.heapUsed / 2 ** 20, 2)} → ${fmt(last.heapUsed / 2 ** 20, 2)}`,
        fmt(h.growthBytes / 1024, 0),
        fmt(h.bytesPerRequest, 3)
      ]
    })
  }
}

export function scrapeTable (scrape: readonly ScrapeResult[]): Table {
  return {
    head: ['Scenario', 'Accept', 'Content-Type', 'Series', 'Bytes', 'Scrape ms (median)', 'min ms', 'Server CPU ms/scrape', 'CPU ms per 1,000 lines'],
    rows: scrape.flatMap((r) => r.formats.map((f) => [
      (SCENARIOS.find((s) => s.id === r.scenario)?.label ?? r.scenario) + (r.workers !== undefined ? ` (${r.workers} workers)` : ''),
      f.accept,
      f.contentType.split(';')[0] ?? '',
      String(f.series),
      String(f.bytes),
      fmt(f.medianMs, 2),
      fmt(f.minMs, 2),
      fmt(f.cpuMsPerScrape, 2),
      fmt(cpuPer1000Lines(f), 2)
    ]))
  }
}

export function comparisonTable (comparisons: readonly Comparison[]): Table {
  return { head: ['Side by side', 'Measured'], rows: comparisons.map((c) => [c.name, c.measured]) }
}

export function startupTable (startup: StartupResult): Table {
  return {
    head: ['Start-up', 'Runs', 'Time to listen ms', 'Added ms', 'Peak RSS MiB', 'Added MiB'],
    rows: startup.summaries.map((s) => [
      s.label,
      String(s.runs),
      fmtSpread(s.listenMs, 0),
      s.variant === 'bare' ? '-' : fmtSigned(s.addedMs, 0),
      fmtSpread(s.peakRssMiB, 1),
      s.variant === 'bare' ? '-' : fmtSigned(s.addedRssMiB)
    ])
  }
}

export function renderText (table: Table): string {
  const widths = table.head.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(table.head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n')
}

export function renderMarkdown (table: Table): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|')
  return [
    `| ${table.head.map(esc).join(' | ')} |`,
    `|${table.head.map(() => '---').join('|')}|`,
    ...table.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)
  ].join('\n')
}

export function renderConsole (report: BenchReport): string {
  const parts = [
    `Machine: ${report.machine.cpuModel}, ${report.machine.cpus} CPUs, Node ${report.machine.node}, load ${report.machine.loadAverage.join(' ')} -> ${report.loadAverageAfter.join(' ')}`,
    `Rounds ${report.parameters.rounds}, warm-up ${report.parameters.warmup} s, window ${report.parameters.duration} s, ${report.parameters.connections} connections, ${report.parameters.pinned ? 'server on CPU 1, load on CPU 0' : 'not pinned'}`,
    '',
    'Overhead against bare Fastify (median over rounds, min-max in parentheses):',
    renderText(ratioTable(report.summaries)),
    '',
    'Absolute figures (median, min-max):',
    renderText(absoluteTable(report.summaries))
  ]
  if (report.heap.length > 0) parts.push('', 'Post-GC heap under load:', renderText(heapTable(report.heap)))
  if (report.scrape.length > 0) parts.push('', '/metrics scrape:', renderText(scrapeTable(report.scrape)))
  if (report.startup !== undefined) parts.push('', `Start-up (median, min-max over ${report.startup.repetitions} repetitions; added: against the bare start of the same repetition):`, renderText(startupTable(report.startup)))
  if (report.comparisons.length > 0) parts.push('', 'Side by side (median over rounds, min-max):', renderText(comparisonTable(report.comparisons)))
  if (report.targets.length > 0) parts.push('', 'Targets (median of per-round figures, min-max of the rounds):', renderText(targetTable(report.targets)))
  return parts.join('\n')
}

export const DOC_START = '<!-- bench:generated:start (written by `pnpm bench`; edit outside these markers) -->'
export const DOC_END = '<!-- bench:generated:end -->'

export function renderDocSection (report: BenchReport, command: string): string {
  const m = report.machine
  const p = report.parameters
  const lines = [
    DOC_START,
    '',
    `Generated by \`${command}\` on ${m.date.slice(0, 16).replace('T', ' ')} UTC.`,
    '',
    '### Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${m.cpuModel}, ${m.cpus} CPUs |`,
    `| Memory | ${m.memoryGiB} GiB |`,
    `| Kernel | Linux ${m.kernel} |`,
    `| Node.js | ${m.node} |`,
    `| Load average (1, 5, 15 min) | ${m.loadAverage.join(', ')} at start, ${report.loadAverageAfter.join(', ')} at the end |`,
    '',
    '### Run parameters',
    '',
    `${p.rounds} round${p.rounds === 1 ? '' : 's'}; in each round every scenario is started in a fresh server process (order rotated per round), warmed up for ${p.warmup} s, then measured for ${p.duration} s with ${p.connections} autocannon connections (GET /api/orders/42, no pipelining). ` +
      (p.pinned ? 'Server pinned to CPU 1 (`taskset -c 1`), load generator pinned to CPU 0.' : 'Not pinned (taskset or a second CPU missing).') +
      (p.heapDuration > 0 ? ` Heap run: ${p.heapDuration} s per scenario.` : ' Heap run: skipped.') +
      (p.scrapeSeries > 0 ? ` Scrape: ${p.scrapeIterations} timed scrapes per format, after ${p.scrapeWarmups ?? 10} untimed ones, at about ${p.scrapeSeries} series.` : ' Scrape: skipped.') +
      (report.startup !== undefined ? ` Start-up: ${report.startup.repetitions} repetitions of each variant${report.startup.queried ? ', one query against DATABASE_URL before listening' : ', no query (DATABASE_URL unset)'}.` : ' Start-up: skipped.'),
    '',
    '### Overhead against bare Fastify',
    '',
    'Median over rounds of the per-round figure; min-max in parentheses. CPU is the server process\'s user+system time (all threads, GC included) from `/proc/<pid>/stat` divided by the requests completed in the window.',
    '',
    renderMarkdown(ratioTable(report.summaries)),
    '',
    'Absolute figures (median, min-max over rounds):',
    '',
    renderMarkdown(absoluteTable(report.summaries)),
    ''
  ]
  if (report.targets.length > 0) lines.push('### Targets', '', 'Goals of issue 17 (and the cluster goal of issue 15). Median of the per-round figures; min-max over the rounds in parentheses.', '', renderMarkdown(targetTable(report.targets)), '')
  if (report.comparisons.length > 0) lines.push('### Side by side', '', 'Per-request costs the issues ask to see next to each other (no goal of their own). Median over rounds, min to max in parentheses.', '', renderMarkdown(comparisonTable(report.comparisons)), '')
  if (report.heap.length > 0) {
    lines.push('### Retained heap', '', 'Post-GC `heapUsed` (two forced full GCs in the server, `--expose-gc`) sampled under load; slope = least-squares bytes per request served.', '', renderMarkdown(heapTable(report.heap)), '')
  }
  if (report.scrape.length > 0) {
    lines.push('### /metrics scrape', '', 'Series = sample lines of the exposition (request series grown by requesting distinct routes, plus the runtime metrics). Time = client-side wall time of one scrape, request to last byte. CPU = server CPU per scrape from `/proc` (the whole process group for the cluster).', '', renderMarkdown(scrapeTable(report.scrape)), '')
  }
  if (report.startup !== undefined) {
    lines.push('### Start-up', '', `Fastify + pg app (ESM), ${report.startup.repetitions} repetitions, order rotated; time from process start to listening (the app's \`performance.now()\`) and peak RSS (\`VmHWM\`) once listening. Median, min-max; added = against the bare start of the same repetition.`, '', renderMarkdown(startupTable(report.startup)), '')
  }
  lines.push(DOC_END)
  return lines.join('\n')
}

const DOC_SKELETON = `# Benchmarks

${DOC_START}
${DOC_END}
`

/** Replace the generated section of docs/benchmarks.md, keeping everything outside the markers. */
export function updateDoc (path: string, section: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : DOC_SKELETON
  const start = current.indexOf(DOC_START)
  const end = current.indexOf(DOC_END)
  const next = start >= 0 && end > start
    ? current.slice(0, start) + section + current.slice(end + DOC_END.length)
    : current.trimEnd() + '\n\n' + section + '\n'
  writeFileSync(path, next)
}

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { MachineInfo } from './machine'
import type { HeapRun, Measurement } from './runner'
import { SCENARIOS, type ScenarioId } from './scenarios'
import type { ScrapeFormatResult, ScrapeResult } from './scrape'
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
}

export interface Target {
  name: string
  goal: string
  measured: string
  met: boolean | undefined
}

export interface BenchReport {
  machine: MachineInfo
  loadAverageAfter: number[]
  parameters: Parameters
  summaries: ScenarioSummary[]
  targets: Target[]
  heap: HeapRun[]
  scrape: ScrapeResult[]
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
      errors: mine.reduce((n, m) => n + m.errors + m.non2xx, 0)
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

export const HEAP_SLOPE_LIMIT = 1
export const HEAP_MIN_SECONDS = 30

export function evaluateTargets (measurements: readonly Measurement[], heap: readonly HeapRun[], scrape: readonly ScrapeResult[]): Target[] {
  const targets: Target[] = []
  const fraction = (name: string, ours: ScenarioId, peer: ScenarioId, limit: number, goal: string): void => {
    const f = overheadFraction(measurements, ours, peer)
    if (!Number.isFinite(f.median)) return
    targets.push({
      name,
      goal,
      measured: `${fmt(f.median, 2)} of the peer's overhead (rounds: ${fmt(f.min, 2)}-${fmt(f.max, 2)})`,
      met: limit === 1 ? f.median < limit : f.median <= limit
    })
  }
  fraction('@o11y/metrics vs fastify-metrics', 'o11y-metrics', 'fastify-metrics', 0.5, 'overhead <= 0.5 x fastify-metrics overhead')
  fraction('@o11y/tracing vs @fastify/otel + instrumentation-http', 'o11y-tracing', 'otel-peers', 1, 'overhead < peers overhead')
  fraction('full @o11y suite vs peers combined', 'o11y-full', 'peers-combined', 0.5, 'overhead <= 0.5 x peers-combined overhead')
  const full = heap.find((h) => h.scenario === 'o11y-full')
  if (full !== undefined) {
    // A short run is still warming up (JIT code, caches): its slope says nothing about leaks.
    const judged = full.duration >= HEAP_MIN_SECONDS
    targets.push({
      name: 'retained heap, full suite',
      goal: `post-GC heap slope < ${HEAP_SLOPE_LIMIT} byte per request (runs of ${HEAP_MIN_SECONDS} s or more)`,
      measured: `${fmt(full.bytesPerRequest, 3)} B/request over ${full.requests} requests${judged ? '' : ` (${full.duration} s run: too short to judge)`}`,
      met: judged ? Math.abs(full.bytesPerRequest) < HEAP_SLOPE_LIMIT : undefined
    })
  }
  const ours = scrape.find((s) => s.scenario === 'o11y-metrics')
  const peer = scrape.find((s) => s.scenario === 'fastify-metrics')
  if (ours !== undefined && peer !== undefined) {
    // Same Accept header on both sides; server CPU per scrape decides (wall time on a shared
    // 2-CPU machine mostly measures who else was running), wall time is shown alongside.
    const pairs = ours.formats.map((o) => ({ o, p: peer.formats.find((f) => f.accept === o.accept) }))
      .filter((x): x is { o: ScrapeFormatResult, p: ScrapeFormatResult } => x.p !== undefined)
    targets.push({
      name: `/metrics scrape, ~${ours.targetSeries} series`,
      goal: 'server CPU per scrape no worse than fastify-metrics (each Accept header)',
      measured: pairs.map(({ o, p }) => `${o.accept}: ${fmt(o.cpuMsPerScrape, 2)} vs ${fmt(p.cpuMsPerScrape, 2)} ms CPU, ${fmt(o.medianMs, 2)} vs ${fmt(p.medianMs, 2)} ms wall`).join('; '),
      met: pairs.length > 0 && pairs.every(({ o, p }) => o.cpuMsPerScrape <= p.cpuMsPerScrape)
    })
  }
  return targets
}

export function fmt (value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
}

function fmtSpread (s: Spread, digits: number, suffix = ''): string {
  if (!Number.isFinite(s.median)) return 'n/a'
  return `${fmt(s.median, digits)}${suffix} (${fmt(s.min, digits)}-${fmt(s.max, digits)})`
}

function fmtSigned (s: Spread): string {
  if (!Number.isFinite(s.median)) return 'n/a'
  const sign = (v: number): string => (v >= 0 ? '+' : '') + fmt(v, 1)
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
    head: ['Scenario', 'Accept', 'Content-Type', 'Series', 'Bytes', 'Scrape ms (median)', 'min ms', 'Server CPU ms/scrape'],
    rows: scrape.flatMap((r) => r.formats.map((f) => [
      SCENARIOS.find((s) => s.id === r.scenario)?.label ?? r.scenario,
      f.accept,
      f.contentType.split(';')[0] ?? '',
      String(f.series),
      String(f.bytes),
      fmt(f.medianMs, 2),
      fmt(f.minMs, 2),
      fmt(f.cpuMsPerScrape, 2)
    ]))
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
  if (report.targets.length > 0) parts.push('', 'Targets:', renderText(targetTable(report.targets)))
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
      (p.scrapeSeries > 0 ? ` Scrape: ${p.scrapeIterations} timed scrapes per format at about ${p.scrapeSeries} series.` : ' Scrape: skipped.'),
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
  if (report.targets.length > 0) lines.push('### Targets', '', renderMarkdown(targetTable(report.targets)), '')
  if (report.heap.length > 0) {
    lines.push('### Retained heap', '', 'Post-GC `heapUsed` (two forced full GCs in the server, `--expose-gc`) sampled under load; slope = least-squares bytes per request served.', '', renderMarkdown(heapTable(report.heap)), '')
  }
  if (report.scrape.length > 0) {
    lines.push('### /metrics scrape', '', 'Series = sample lines of the exposition (request series grown by requesting distinct routes, plus the runtime metrics). Time = client-side wall time of one scrape, request to last byte.', '', renderMarkdown(scrapeTable(report.scrape)), '')
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

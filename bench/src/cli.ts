/**
 * `pnpm bench [--quick] [options]`: overhead of the o11y suite and the peers against bare Fastify.
 * `pnpm bench --profile <scenario>`: CPU profile of one scenario under load, summarized by package.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { machineInfo } from './machine'
import { canPin, pinSelf } from './proc'
import { summarizeProfile } from './profile'
import { evaluateComparisons, evaluateTargets, renderConsole, renderDocSection, renderText, summarize, updateDoc, type BenchReport, type Parameters } from './report'
import { heapRun, load, measure, ServerProcess, type HeapRun, type Measurement } from './runner'
import { getScenario, SCENARIOS, type ScenarioId } from './scenarios'
import { measureScrape, type ScrapeResult } from './scrape'
import { measureClusterScrape } from './cluster-scrape'
import { measureStartup, type StartupResult } from './startup'

export const BENCH_DIR = resolve(__dirname, '..')
export const DEFAULT_OUT = join(BENCH_DIR, 'results')
export const DEFAULT_DOC = resolve(BENCH_DIR, '..', 'docs', 'benchmarks.md')
const SERVER_CPU = 1
const LOAD_CPU = 0

const USAGE = `Usage: pnpm bench [options]   (from the repository root; 'pnpm bench -- [options]' works too)

  --quick              smoke run in under two minutes (1 round, short windows, no docs update)
  --rounds N           rounds over all scenarios (default 5; quick 1)
  --warmup S           warm-up seconds per scenario and round (default 3; quick 0.5)
  --duration S         measured seconds per scenario and round (default 10; quick 2)
  --connections N      autocannon connections (default 10)
  --only a,b           only these scenarios (bare is always added); ids: ${SCENARIOS.map((s) => s.id).join(', ')}
  --heap-duration S    seconds of the retained-heap run of bare and full suite (default 60; quick 5; 0 skips)
  --scrape-series N    series in the /metrics scrape measurement (default 750; 0 skips)
  --startup-runs N     repetitions of the start-up phase (Fastify + pg: bare, --import @o11y/tracing/register,
                       --import @opentelemetry/auto-instrumentations-node/register; runs when o11y-tracing
                       is selected; default 5; quick 1; 0 skips)
  --docs / --no-docs   rewrite the generated part of docs/benchmarks.md (default: on, off with --quick)
  --out DIR            where the raw JSON goes (default bench/results)
  --no-pin             do not pin server and load generator to CPUs
  --profile SCENARIO   CPU-profile one scenario under load (node --cpu-prof) and print where the time goes
  --help`

export interface CliOptions {
  quick: boolean
  rounds: number
  warmup: number
  duration: number
  connections: number
  only?: ScenarioId[]
  heapDuration: number
  scrapeSeries: number
  startupRuns: number
  docs: boolean
  out: string
  doc: string
  pin: boolean
  profile?: ScenarioId
  help: boolean
}

function positiveNumber (name: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`@o11y/bench: --${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${value}"`)
  return n
}

export function parseCli (argv: readonly string[]): CliOptions {
  // `pnpm bench -- --quick` hands the `--` through: drop it so the flags after it still count.
  const args = argv.filter((a) => a !== '--')
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      only: { type: 'string' },
      'heap-duration': { type: 'string' },
      'scrape-series': { type: 'string' },
      'startup-runs': { type: 'string' },
      docs: { type: 'boolean' },
      'no-docs': { type: 'boolean' },
      out: { type: 'string' },
      doc: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false }
    },
    strict: true,
    allowPositionals: false
  })
  const quick = values.quick === true
  const only = values.only?.split(',').map((s) => getScenario(s.trim()).id)
  return {
    quick,
    rounds: positiveNumber('rounds', values.rounds, quick ? 1 : 5),
    warmup: positiveNumber('warmup', values.warmup, quick ? 0.5 : 3),
    duration: positiveNumber('duration', values.duration, quick ? 2 : 10),
    connections: positiveNumber('connections', values.connections, 10),
    ...(only !== undefined ? { only } : {}),
    heapDuration: positiveNumber('heap-duration', values['heap-duration'], quick ? 5 : 60, true),
    scrapeSeries: positiveNumber('scrape-series', values['scrape-series'], 750, true),
    startupRuns: Math.floor(positiveNumber('startup-runs', values['startup-runs'], quick ? 1 : 5, true)),
    docs: values['no-docs'] === true ? false : values.docs ?? !quick,
    out: resolve(values.out ?? DEFAULT_OUT),
    doc: resolve(values.doc ?? DEFAULT_DOC),
    pin: values['no-pin'] !== true,
    ...(values.profile !== undefined ? { profile: getScenario(values.profile).id } : {}),
    help: values.help === true
  }
}

function log (message: string): void {
  process.stderr.write(`${message}\n`)
}

function selectedScenarios (options: CliOptions): ScenarioId[] {
  if (options.only === undefined) return SCENARIOS.map((s) => s.id)
  const wanted = new Set<ScenarioId>(['bare', ...options.only])
  return SCENARIOS.map((s) => s.id).filter((id) => wanted.has(id))
}

export async function runBench (options: CliOptions): Promise<BenchReport> {
  const pinned = options.pin && canPin(cpus().length)
  if (pinned) pinSelf(LOAD_CPU)
  const cpu = pinned ? SERVER_CPU : undefined
  const machine = machineInfo()
  const scenarios = selectedScenarios(options)
  const measurements: Measurement[] = []
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order so that no scenario always runs first or last in a round.
    const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length]!)
    for (const id of order) {
      const m = await measure(id, round, { warmup: options.warmup, duration: options.duration, connections: options.connections, cpu })
      measurements.push(m)
      log(`round ${round + 1}/${options.rounds} ${id.padEnd(22)} ${m.cpuPerRequestMicros.toFixed(1).padStart(7)} µs/req  ${m.requestsPerSecond.toFixed(0).padStart(6)} req/s  p99 ${m.p99Ms} ms${m.errors + m.non2xx > 0 ? `  ERRORS ${m.errors} non-2xx ${m.non2xx}` : ''}`)
    }
  }
  const heap: HeapRun[] = []
  if (options.heapDuration > 0) {
    for (const id of (['bare', 'o11y-full'] as const).filter((s) => scenarios.includes(s))) {
      const every = options.heapDuration >= 30 ? 5 : 1
      const run = await heapRun(id, { duration: options.heapDuration, every, skip: Math.min(10, options.heapDuration / 4), connections: options.connections, cpu })
      heap.push(run)
      log(`heap ${id}: ${run.requests} requests, slope ${run.bytesPerRequest.toFixed(3)} B/request, growth ${(run.growthBytes / 1024).toFixed(0)} KiB`)
    }
  }
  const scrape: ScrapeResult[] = []
  // /proc counts CPU in 10 ms ticks: 1,000 scrapes of ~1 ms make ~100 ticks (1% resolution; 200
  // made 20, so per-scrape figures came in steps of 0.05 ms). The untimed scrapes first bring both
  // servers to the steady state of an endpoint scraped every 15 s for days: measured in batches of
  // 300, both fastify-metrics and ours settle after about 900 scrapes (JIT tiering of code that
  // runs once per scrape), at 70% of their CPU per scrape over the first 300.
  const scrapeIterations = options.quick ? 50 : 1000
  const scrapeWarmups = options.quick ? 10 : 1000
  if (options.scrapeSeries > 0) {
    for (const id of (['fastify-metrics', 'o11y-metrics'] as const).filter((s) => scenarios.includes(s))) {
      const result = await measureScrape(id, { targetSeries: options.scrapeSeries, iterations: scrapeIterations, warmups: scrapeWarmups, maxRoutes: 400, cpu })
      scrape.push(result)
      log(`scrape ${id}: ${result.formats.map((f) => `${f.series} series ${f.medianMs.toFixed(2)} ms`).join(', ')}`)
    }
    if (scenarios.includes('o11y-metrics-cluster')) {
      const result = await measureClusterScrape({ workers: 4, labelSets: options.scrapeSeries, iterations: Math.ceil(scrapeIterations / 2), cpu })
      scrape.push(result)
      log(`scrape o11y-metrics-cluster (4 workers x ${options.scrapeSeries} label sets): ${result.formats.map((f) => `${f.series} series ${f.medianMs.toFixed(2)} ms, ${f.cpuMsPerScrape.toFixed(2)} ms CPU`).join(', ')}`)
    }
  }
  let startup: StartupResult | undefined
  if (options.startupRuns > 0 && scenarios.includes('o11y-tracing')) {
    startup = await measureStartup({ repetitions: options.startupRuns, warmup: !options.quick, cpu, log })
    log(`start-up: ${startup.summaries.map((s) => `${s.variant} ${s.listenMs.median.toFixed(0)} ms, ${s.peakRssMiB.median.toFixed(1)} MiB`).join('; ')}`)
  }
  const parameters: Parameters = {
    quick: options.quick,
    rounds: options.rounds,
    warmup: options.warmup,
    duration: options.duration,
    connections: options.connections,
    pinned,
    heapDuration: options.heapDuration,
    scrapeSeries: options.scrapeSeries,
    scrapeIterations,
    scrapeWarmups,
    startupRepetitions: startup?.repetitions ?? 0
  }
  return {
    machine,
    loadAverageAfter: loadavg().map((l) => Math.round(l * 100) / 100),
    parameters,
    summaries: summarize(measurements),
    targets: evaluateTargets(measurements, heap, scrape, startup),
    comparisons: evaluateComparisons(measurements, scrape),
    heap,
    scrape,
    ...(startup !== undefined ? { startup } : {}),
    measurements
  }
}

export async function runProfile (scenario: ScenarioId, options: CliOptions): Promise<string> {
  const pinned = options.pin && canPin(cpus().length)
  if (pinned) pinSelf(LOAD_CPU)
  const dir = join(options.out, 'profiles', `${scenario}-${Date.now()}`)
  mkdirSync(dir, { recursive: true })
  const server = await ServerProcess.start(scenario, {
    cpu: pinned ? SERVER_CPU : undefined,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`]
  })
  try {
    await load(server, { connections: options.connections, duration: options.warmup })
    const result = await load(server, { connections: options.connections, duration: options.duration })
    log(`profile ${scenario}: ${result.requests} requests in the window`)
  } finally {
    await server.stop()
  }
  // The server's profile is the largest one (a preloaded tool may start helper processes too).
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f))
  const file = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]
  if (file === undefined) throw new Error(`@o11y/bench: no profile written in ${dir}`)
  const summary = summarizeProfile(file, 30)
  writeFileSync(file.replace(/\.cpuprofile$/, '.summary.json'), JSON.stringify(summary, null, 2))
  const table = (entries: typeof summary.functions): string => renderText({
    head: ['self ms', 'self %', 'total ms', 'total %', 'function'],
    rows: entries.map((e) => [e.selfMs.toFixed(1), e.selfPercent.toFixed(1), e.totalMs.toFixed(1), e.totalPercent.toFixed(1), e.name])
  })
  return [
    `Profile of ${scenario} (${summary.sampledMs} ms on CPU, idle excluded; warm-up included): ${file}`,
    '',
    'Self time by package:',
    renderText({ head: ['self ms', 'self %', 'package'], rows: summary.packages.slice(0, 25).map((p) => [p.selfMs.toFixed(1), p.selfPercent.toFixed(1), p.name]) }),
    '',
    'Heaviest functions by self time:',
    table(summary.functions),
    '',
    'Heaviest JavaScript functions by total time (callees included):',
    table(summary.inclusive)
  ].join('\n')
}

export async function main (argv: readonly string[], stdout: { write (text: string): unknown } = process.stdout): Promise<number> {
  let options: CliOptions
  try {
    options = parseCli(argv)
  } catch (err) {
    log(err instanceof Error ? err.message : String(err))
    log(USAGE)
    return 2
  }
  if (options.help) {
    stdout.write(`${USAGE}\n`)
    return 0
  }
  if (options.profile !== undefined) {
    stdout.write(`${await runProfile(options.profile, options)}\n`)
    return 0
  }
  const report = await runBench(options)
  stdout.write(`\n${renderConsole(report)}\n`)
  mkdirSync(options.out, { recursive: true })
  const stamp = report.machine.date.replace(/[:.]/g, '-')
  const json = JSON.stringify(report, null, 2)
  writeFileSync(join(options.out, `bench-${stamp}.json`), json)
  writeFileSync(join(options.out, 'latest.json'), json)
  log(`raw results: ${join(options.out, `bench-${stamp}.json`)}`)
  if (options.docs) {
    updateDoc(options.doc, renderDocSection(report, `pnpm bench ${argv.filter((a) => a !== '--').join(' ')}`.trim()))
    log(`updated ${options.doc}`)
  }
  return 0
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err))
    process.exitCode = 1
  })
}

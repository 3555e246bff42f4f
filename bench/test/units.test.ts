import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseCli } from '../src/cli'
import { packageOf } from '../src/profile'
import { comparisonTable, cpuDifference, DOC_END, DOC_START, evaluateComparisons, evaluateTargets, overheadFraction, renderConsole, renderDocSection, renderMarkdown, renderText, startupTable, summarize, updateDoc, type BenchReport } from '../src/report'
import type { HeapRun, Measurement } from '../src/runner'
import type { ScenarioId } from '../src/scenarios'
import { countSeries, type ScrapeResult } from '../src/scrape'
import { summarizeStartup, type StartupRun } from '../src/startup'
import { linearFit, median, spread } from '../src/stats'

function m (scenario: ScenarioId, round: number, cpu: number, extra: Partial<Measurement> = {}): Measurement {
  return {
    scenario, round, requests: 1000, cpuMicros: cpu * 1000, cpuPerRequestMicros: cpu, requestsPerSecond: 1e6 / cpu,
    p50Ms: cpu / 100, p99Ms: cpu / 10, rssBytes: 64 * 2 ** 20, errors: 0, non2xx: 0, serverStats: {}, ...extra
  }
}

t.test('median, spread, least squares', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 2, 3]), 2.5)
  t.ok(Number.isNaN(median([])))
  t.same(spread([5, Number.NaN, 1, 3]), { median: 3, min: 1, max: 5 })
  t.ok(Number.isNaN(spread([]).median))
  t.same(linearFit([{ x: 0, y: 10 }, { x: 1, y: 12 }, { x: 2, y: 14 }]), { slope: 2, intercept: 10 })
  t.ok(Number.isNaN(linearFit([{ x: 1, y: 1 }]).slope))
  t.ok(Number.isNaN(linearFit([{ x: 1, y: 1 }, { x: 1, y: 2 }]).slope))
})

t.test('ratios and overheads are taken against bare Fastify of the same round', async (t) => {
  const measurements = [
    m('bare', 0, 20), m('fastify-metrics', 0, 80), m('o11y-metrics', 0, 30),
    m('bare', 1, 40), m('fastify-metrics', 1, 100), m('o11y-metrics', 1, 50, { spansPerRequest: 3 })
  ]
  const summaries = summarize(measurements)
  t.same(summaries.map((s) => s.scenario), ['bare', 'fastify-metrics', 'o11y-metrics'])
  const ours = summaries.find((s) => s.scenario === 'o11y-metrics')!
  t.same(ours.overheadMicros, { median: 10, min: 10, max: 10 })
  t.same(ours.cpuRatio, { median: 1.375, min: 1.25, max: 1.5 })
  t.equal(ours.spansPerRequest, 3)
  t.same(overheadFraction(measurements, 'o11y-metrics', 'fastify-metrics'), { median: 1 / 6, min: 1 / 6, max: 1 / 6 })

  const heap: HeapRun[] = [{ scenario: 'o11y-full', duration: 60, samples: [], bytesPerRequest: 0.2, growthBytes: 1000, requests: 100000 }]
  const targets = evaluateTargets(measurements, heap, [])
  t.same(targets.map((x) => [x.name, x.met]), [
    ['@o11y/metrics overhead / fastify-metrics', true],
    ['retained heap slope, full suite', true]
  ])
  const leak = evaluateTargets([], [{ ...heap[0]!, bytesPerRequest: 40 }], [])
  t.equal(leak[0]?.met, false)
  const short = evaluateTargets([], [{ ...heap[0]!, duration: 8, bytesPerRequest: 4 }], [])
  t.equal(short[0]?.met, undefined, 'a short heap run is not judged')
  t.match(short[0]?.measured, /too short to judge/)
})

t.test('every goal of issue 17 and the cluster goal, judged on per-round figures', async (t) => {
  const cpu: Partial<Record<ScenarioId, number>> = {
    bare: 20,
    'fastify-metrics': 80,
    'otel-peers': 120,
    'dd-trace': 100,
    pino: 50,
    'pino-stdout': 60,
    'peers-combined': 220,
    'o11y-metrics': 35,
    'o11y-metrics-otlp': 38,
    'o11y-metrics-cluster': 36,
    'o11y-tracing': 50,
    'o11y-tracing-lifecycle': 80,
    'o11y-logging': 35,
    'o11y-logging-stdout': 45,
    'o11y-logging-otlp': 50,
    'o11y-full': 70
  }
  const spans: Partial<Record<ScenarioId, number>> = { 'otel-peers': 3, 'dd-trace': 1, 'o11y-tracing': 1, 'o11y-tracing-lifecycle': 3, 'o11y-full': 1 }
  const measurements = Object.entries(cpu).map(([id, v]) => m(id as ScenarioId, 0, v, {
    ...(spans[id as ScenarioId] !== undefined ? { spansPerRequest: spans[id as ScenarioId] } : {}),
    ...(id === 'o11y-logging-otlp' ? { serverStats: { otlpLogRecordsExported: 900, otlpLogRecordsDropped: 0, otlpLogRecordsFailed: 0 } } : {}),
    ...(id === 'o11y-logging-stdout' ? { serverStats: { linesWritten: 1000, linesDropped: 2 } } : {})
  }))
  const heap: HeapRun[] = [{ scenario: 'o11y-full', duration: 60, samples: [], bytesPerRequest: 0.2, growthBytes: 1000, requests: 100000 }]
  const format = (cpuMs: number, series: number): ScrapeResult['formats'][number] => ({ accept: '(none)', contentType: 'text/plain', series, bytes: series * 100, medianMs: cpuMs, minMs: cpuMs, cpuMsPerScrape: cpuMs })
  const scrape: ScrapeResult[] = [
    { scenario: 'fastify-metrics', targetSeries: 750, routesHit: 29, formats: [format(4, 760)] },
    { scenario: 'o11y-metrics', targetSeries: 750, routesHit: 38, formats: [format(1.5, 750)] },
    { scenario: 'o11y-metrics-cluster', targetSeries: 750, routesHit: 0, workers: 4, formats: [format(9, 800)] }
  ]
  // Two repetitions: ours adds 200 and 250 ms, the auto-instrumentations 700 and 800 ms.
  const runs: StartupRun[] = [
    { variant: 'bare', repetition: 0, listenMs: 1000, peakRssBytes: 70 * 2 ** 20, queried: true },
    { variant: 'o11y-tracing', repetition: 0, listenMs: 1200, peakRssBytes: 90 * 2 ** 20, queried: true },
    { variant: 'otel-auto', repetition: 0, listenMs: 1700, peakRssBytes: 110 * 2 ** 20, queried: true },
    { variant: 'bare', repetition: 1, listenMs: 1100, peakRssBytes: 70 * 2 ** 20, queried: true },
    { variant: 'o11y-tracing', repetition: 1, listenMs: 1350, peakRssBytes: 92 * 2 ** 20, queried: true },
    { variant: 'otel-auto', repetition: 1, listenMs: 1900, peakRssBytes: 112 * 2 ** 20, queried: true }
  ]
  const startup = summarizeStartup(runs)
  t.equal(startup.repetitions, 2)
  t.same(startup.summaries.map((s) => [s.variant, s.addedMs.median, s.addedRssMiB.median]), [['bare', 0, 0], ['o11y-tracing', 225, 21], ['otel-auto', 750, 41]])
  t.same(startup.addedTimeRatio, { median: (200 / 700 + 250 / 800) / 2, min: 200 / 700, max: 250 / 800 })

  const targets = evaluateTargets(measurements, heap, scrape, startup)
  t.same(targets.map((x) => [x.name, x.met]), [
    ['full suite CPU per request, x bare', false], // 3.5
    ['full suite overhead / peers combined', true], // 50 / 200
    ['@o11y/tracing overhead / OTel peers (same sampling)', true], // 30 / 100
    ['@o11y/tracing overhead / dd-trace', true], // 30 / 80
    ['@o11y/logging overhead / Fastify pino logging, file (/dev/null)', true], // 15 / 30
    ['@o11y/logging overhead / Fastify pino logging, stdout (pipe)', false], // 25 / 40
    ['@o11y/metrics overhead / fastify-metrics', true], // 15 / 60
    ['/metrics server CPU per 1,000 sample lines / fastify-metrics\'', true], // 2.0 / 5.26
    ['retained heap slope, full suite', true],
    ['start-up: time to listen added by --import @o11y/tracing/register / by auto-instrumentations-node/register (Fastify + pg)', true],
    ['CPU per request in a cluster worker / single process, @o11y/metrics (issue 15)', true] // 36 / 35
  ])
  t.match(targets.at(-1)!.measured, /^1\.03 \(rounds 1\.03-1\.03\)$/)
  // A single-process overhead at or below zero (noise against bare) must not make any cluster cost
  // pass: 60 against 49 µs is 22% more, whatever (60 - 50) / (49 - 50) says.
  const noisy = [m('bare', 0, 50), m('o11y-metrics', 0, 49), m('o11y-metrics-cluster', 0, 60)]
  const judged = evaluateTargets(noisy, [], [])
  t.same(judged.map((x) => [x.name, x.met]), [['CPU per request in a cluster worker / single process, @o11y/metrics (issue 15)', false]])
  t.match(judged[0]!.measured, /^1\.22 /)
  t.match(targets[0]!.measured, /^3\.50 \(rounds 3\.50-3\.50\)$/)
  t.match(targets[2]!.measured, /0\.30 .*spans\/req 1\.00 vs 3\.00/)
  t.match(targets[7]!.measured, /\(none\): 0\.38 \(2\.00 vs 5\.26 ms\)/)
  t.match(targets[9]!.measured, /^\+0\.23 s \/ \+0\.75 s = 0\.30 .*peak RSS \+21\.0 .* MiB vs \+41\.0/)
  // Ours above +0.30 s fails the start-up goal even at a good ratio.
  const slow = summarizeStartup(runs.map((r) => ({ ...r, listenMs: r.variant === 'bare' ? r.listenMs : r.variant === 'o11y-tracing' ? r.listenMs + 200 : r.listenMs + 2000 })))
  t.equal(evaluateTargets([], [], [], slow).at(-1)?.met, false)

  t.same(cpuDifference(measurements, 'o11y-metrics-otlp', 'o11y-metrics'), { median: 3, min: 3, max: 3 })
  const comparisons = evaluateComparisons(measurements, scrape)
  t.same(comparisons.map((c) => c.name), [
    '@o11y/metrics: OTLP push (every 1 s) beside /metrics (o11y-metrics-otlp) vs scrape only (o11y-metrics)',
    '@o11y/logging: stdout + OTLP export (o11y-logging-otlp) vs stdout only (o11y-logging-stdout)',
    '@o11y/logging: stdout pipe vs /dev/null',
    'Fastify pino logging: stdout pipe vs /dev/null',
    '@o11y/tracing: lifecycleSpans: true vs default',
    '@o11y/tracing with lifecycleSpans / OTel peers (three spans per request each)',
    'cluster /metrics scrape, 4 workers x 750 label sets (issue 15)'
  ])
  t.match(comparisons[0]!.measured, /^overhead \+18\.0 \(\+18\.0 to \+18\.0\) vs \+15\.0 \(\+15\.0 to \+15\.0\) µs\/req; difference \+3\.0/)
  t.match(comparisons[1]!.measured, /difference \+5\.0 .*exported 900, dropped 0, failed 0/)
  t.match(comparisons[4]!.measured, /spans\/req 3\.00 vs 1\.00/)
  t.match(comparisons[2]!.measured, /difference \+10\.0 .*lines written 1000, dropped 2/)

  const report: BenchReport = {
    machine: { date: '2026-11-30T21:00:00.000Z', cpuModel: 'cpu', cpus: 2, memoryGiB: 4, kernel: 'k', node: 'v24.22.3', loadAverage: [0, 0, 0] } as BenchReport['machine'],
    loadAverageAfter: [0, 0, 0],
    parameters: { quick: false, rounds: 1, warmup: 3, duration: 10, connections: 10, pinned: true, heapDuration: 60, scrapeSeries: 750, scrapeIterations: 200, startupRepetitions: 2 },
    summaries: summarize(measurements),
    targets,
    comparisons,
    heap,
    scrape,
    startup,
    measurements
  }
  const doc = renderDocSection(report, 'pnpm bench')
  t.match(doc, /### Start-up/)
  t.match(doc, /### Side by side/)
  t.match(doc, /2 repetitions of each variant, one query against DATABASE_URL/)
  t.match(doc, /\| dd-trace \| 100\.0 \|/)
  t.match(renderConsole(report), /Start-up \(median, min-max over 2 repetitions/)
  t.match(renderText(startupTable(startup)), /--import @o11y\/tracing\/register\s+2\s+1275 \(1200-1350\)\s+\+225 \(\+200 to \+250\)/)
  t.equal(comparisonTable([]).rows.length, 0)
})

t.test('tables render as text and markdown', async (t) => {
  const table = { head: ['a', 'long header'], rows: [['x|y', '1']] }
  t.equal(renderText(table), 'a    long header\n---  -----------\nx|y  1')
  t.equal(renderMarkdown(table), '| a | long header |\n|---|---|\n| x\\|y | 1 |')
})

t.test('the generated section of the doc is replaced, the rest kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-doc-'))
  const doc = join(dir, 'benchmarks.md')
  updateDoc(doc, `${DOC_START}\nfirst\n${DOC_END}`)
  t.match(readFileSync(doc, 'utf8'), /^# Benchmarks\n\n.*\nfirst\n/m)
  writeFileSync(doc, `# Title\n\nintro\n\n${DOC_START}\nold\n${DOC_END}\n\n## Findings\n\nhand-written\n`)
  updateDoc(doc, `${DOC_START}\nnew\n${DOC_END}`)
  t.equal(readFileSync(doc, 'utf8'), `# Title\n\nintro\n\n${DOC_START}\nnew\n${DOC_END}\n\n## Findings\n\nhand-written\n`)
  writeFileSync(doc, '# No markers\n')
  updateDoc(doc, `${DOC_START}\nappended\n${DOC_END}`)
  t.equal(readFileSync(doc, 'utf8'), `# No markers\n\n${DOC_START}\nappended\n${DOC_END}\n`)
})

t.test('series are the sample lines of an exposition', async (t) => {
  t.equal(countSeries('# HELP a x\n# TYPE a counter\na 1\na{b="c"} 2\n\n# EOF\n'), 2)
})

t.test('profile frames are attributed to packages', async (t) => {
  t.equal(packageOf('file:///w/node_modules/.pnpm/@opentelemetry+sdk-trace-base@2.11.0/node_modules/@opentelemetry/sdk-trace/build/src/Span.js'), '@opentelemetry/sdk-trace')
  t.equal(packageOf('file:///w/node_modules/.pnpm/fastify@5.12.8/node_modules/fastify/lib/reply.js'), 'fastify')
  t.equal(packageOf('file:///work/main/packages/tracing/dist/plugin.js'), '@o11y/tracing')
  t.equal(packageOf('file:///work/main/apps/order-service/dist/app.js'), 'order-service')
  t.equal(packageOf('file:///work/main/bench/dist/routes.js'), '@o11y/bench')
  t.equal(packageOf('node:internal/http'), 'node (core)')
  t.equal(packageOf(''), '(native)')
  t.equal(packageOf('/elsewhere/x.js'), '/elsewhere/x.js')
})

t.test('command line: defaults, --quick, a `--` from pnpm, bad values', async (t) => {
  const full = parseCli([])
  t.match(full, { quick: false, rounds: 5, warmup: 3, duration: 10, heapDuration: 60, scrapeSeries: 750, docs: true, pin: true })
  const quick = parseCli(['--', '--quick'])
  t.match(quick, { quick: true, rounds: 1, warmup: 0.5, duration: 2, heapDuration: 5, startupRuns: 1, docs: false })
  t.equal(full.startupRuns, 5)
  t.equal(parseCli(['--startup-runs', '0']).startupRuns, 0)
  t.match(parseCli(['--quick', '--docs', '--only', 'o11y-metrics,pino', '--heap-duration', '0', '--no-pin']), { docs: true, only: ['o11y-metrics', 'pino'], heapDuration: 0, pin: false })
  t.equal(parseCli(['--no-docs']).docs, false)
  t.equal(parseCli(['--profile', 'o11y-full']).profile, 'o11y-full')
  t.throws(() => parseCli(['--rounds', '0']), /--rounds must be a positive number/)
  t.throws(() => parseCli(['--only', 'nope']), /unknown scenario "nope"/)
  t.throws(() => parseCli(['--bogus']))
})

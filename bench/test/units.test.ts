import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseCli } from '../src/cli'
import { packageOf } from '../src/profile'
import { DOC_END, DOC_START, evaluateTargets, overheadFraction, renderMarkdown, renderText, summarize, updateDoc } from '../src/report'
import type { HeapRun, Measurement } from '../src/runner'
import type { ScenarioId } from '../src/scenarios'
import { countSeries } from '../src/scrape'
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
    ['@o11y/metrics vs fastify-metrics', true],
    ['retained heap, full suite', true]
  ])
  const leak = evaluateTargets([], [{ ...heap[0]!, bytesPerRequest: 40 }], [])
  t.equal(leak[0]?.met, false)
  const short = evaluateTargets([], [{ ...heap[0]!, duration: 8, bytesPerRequest: 4 }], [])
  t.equal(short[0]?.met, undefined, 'a short heap run is not judged')
  t.match(short[0]?.measured, /too short to judge/)
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
  t.equal(packageOf('file:///w/node_modules/.pnpm/@opentelemetry+sdk-trace-base@2.11.0/node_modules/@opentelemetry/sdk-trace-base/build/src/Span.js'), '@opentelemetry/sdk-trace-base')
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
  t.match(quick, { quick: true, rounds: 1, duration: 3, heapDuration: 8, docs: false })
  t.match(parseCli(['--quick', '--docs', '--only', 'o11y-metrics,pino', '--heap-duration', '0', '--no-pin']), { docs: true, only: ['o11y-metrics', 'pino'], heapDuration: 0, pin: false })
  t.equal(parseCli(['--no-docs']).docs, false)
  t.equal(parseCli(['--profile', 'o11y-full']).profile, 'o11y-full')
  t.throws(() => parseCli(['--rounds', '0']), /--rounds must be a positive number/)
  t.throws(() => parseCli(['--only', 'nope']), /unknown scenario "nope"/)
  t.throws(() => parseCli(['--bogus']))
})

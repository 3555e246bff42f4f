import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { main, parseCli, runBench, runProfile } from '../src/cli'
import { DOC_START } from '../src/report'

function sink (): { text: string, write (s: string): void } {
  return { text: '', write (s: string) { this.text += s } }
}

// The whole pipeline on a tiny budget: real servers, real load, real /proc readings. Values are
// checked for presence and sanity, never against timing thresholds.
t.test('a tiny benchmark run produces every figure, the JSON and the doc section', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-run-'))
  const doc = join(dir, 'benchmarks.md')
  const out = sink()
  const code = await main(['--', '--rounds', '1', '--warmup', '0.3', '--duration', '0.7', '--only', 'o11y-metrics,fastify-metrics',
    '--heap-duration', '2', '--scrape-series', '120', '--startup-runs', '1', '--docs', '--doc', doc, '--out', dir, '--no-pin'], out)
  t.equal(code, 0)
  t.match(out.text, /Overhead against bare Fastify/)
  t.match(out.text, /@o11y\/metrics/)
  const report = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'))
  t.same(report.summaries.map((s: { scenario: string }) => s.scenario), ['bare', 'fastify-metrics', 'o11y-metrics'])
  for (const m of report.measurements) {
    t.ok(m.requests > 0, `${m.scenario}: requests served`)
    t.ok(m.cpuPerRequestMicros > 0, `${m.scenario}: CPU per request measured`)
    t.ok(m.p99Ms >= m.p50Ms && m.p50Ms > 0, `${m.scenario}: latency percentiles`)
    t.equal(m.errors + m.non2xx, 0, `${m.scenario}: no errors`)
  }
  t.same(report.heap.map((h: { scenario: string }) => h.scenario), ['bare'])
  t.ok(report.heap[0].samples.length >= 2, 'heap sampled during the run')
  t.same(report.scrape.map((s: { scenario: string }) => s.scenario), ['fastify-metrics', 'o11y-metrics'])
  for (const s of report.scrape) {
    t.ok(s.formats.every((f: { series: number }) => f.series >= 120), `${s.scenario}: grown to the target series`)
  }
  t.match(report.targets.map((x: { name: string }) => x.name), ['@o11y/metrics overhead / fastify-metrics', /\/metrics server CPU per 1,000 sample lines/])
  t.equal(report.startup, undefined, 'no start-up phase without o11y-tracing')
  const text = readFileSync(doc, 'utf8')
  t.ok(text.includes(DOC_START))
  t.match(text, /\| @o11y\/metrics \| [\d.]+ \|/)
  t.match(text, /### Machine/)
})

t.test('the start-up phase: every variant starts, listens and reports its peak RSS', async (t) => {
  const report = await runBench(parseCli(['--no-pin', '--only', 'o11y-tracing', '--rounds', '1', '--warmup', '0.2', '--duration', '0.4',
    '--heap-duration', '0', '--scrape-series', '0', '--startup-runs', '1', '--quick']))
  t.same(report.startup?.summaries.map((s) => s.variant), ['bare', 'o11y-tracing', 'otel-auto'])
  for (const run of report.startup?.runs ?? []) {
    t.ok(run.listenMs > 0 && run.listenMs < 60000, `${run.variant}: listening after ${run.listenMs} ms`)
    t.ok(run.peakRssBytes > 20 * 2 ** 20, `${run.variant}: peak RSS ${run.peakRssBytes} bytes`)
    t.equal(run.queried, process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '', `${run.variant}: queried DATABASE_URL when set`)
  }
  t.ok(Number.isFinite(report.startup?.addedTimeRatio.median), 'the ratio of added times is computed')
  t.match(report.targets.map((x) => x.name), [/^start-up: time to listen added/])
  t.equal(report.parameters.startupRepetitions, 1)
})

t.test('runBench without heap and scrape parts', async (t) => {
  const report = await runBench({ ...parseCli(['--no-pin', '--only', 'bare', '--rounds', '2', '--warmup', '0.2', '--duration', '0.4', '--heap-duration', '0', '--scrape-series', '0']) })
  t.equal(report.measurements.length, 2)
  t.same(report.heap, [])
  t.same(report.scrape, [])
  t.same(report.targets, [])
  t.same(report.comparisons, [])
  t.equal(report.startup, undefined)
})

t.test('a CPU profile of one scenario is summarized by package', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'))
  const out = await runProfile('o11y-metrics', parseCli(['--no-pin', '--warmup', '0.3', '--duration', '1', '--out', dir]))
  t.match(out, /Self time by package:/)
  t.match(out, /fastify/)
  t.match(out, /@o11y\/metrics/)
  t.ok(existsSync(join(dir, 'profiles')), 'profile written')
})

t.test('help and usage errors', async (t) => {
  const out = sink()
  t.equal(await main(['--help'], out), 0)
  t.match(out.text, /--quick/)
  t.equal(await main(['--rounds', 'x'], out), 2)
})

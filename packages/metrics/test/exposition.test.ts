import { spawnSync } from 'node:child_process'
import { requireTool } from '@o11y/test-utils'
import { Gauge, Registry } from 'prom-client'
import t from 'tap'
import { negotiate, render } from '../src/index'
import { RenderBuffer } from '../src/exposition'
import { formatValue } from '../src/format'
import { buildApp, find, logCapture, OPENMETRICS_ACCEPT, parseSamples, scrape } from './fixtures/helpers'

t.test('negotiate: OpenMetrics only when Accept asks for it with a quality at least that of text/plain', async (t) => {
  t.equal(negotiate(undefined), 'prometheus')
  t.equal(negotiate('*/*'), 'prometheus')
  t.equal(negotiate('text/plain;version=0.0.4'), 'prometheus')
  t.equal(negotiate(OPENMETRICS_ACCEPT), 'openmetrics')
  t.equal(negotiate('application/openmetrics-text'), 'openmetrics')
  t.equal(negotiate('application/openmetrics-text;q=0.3,text/plain;q=0.9'), 'prometheus')
  t.equal(negotiate('application/openmetrics-text;q=0'), 'prometheus')
  t.equal(negotiate('application/openmetrics-text;q=abc'), 'prometheus')
})

t.test('OpenMetrics output: content type, counter families without _total, # EOF; Prometheus output unchanged afterwards', async (t) => {
  const app = await buildApp(t)
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  const om = await scrape(app, true)
  t.equal(om.status, 200)
  t.equal(om.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8')
  t.match(om.text, /^# TYPE http_requests counter$/m)
  t.match(om.text, /^http_requests_total\{method="GET",route="\/x",status_code="200"\} 1$/m)
  t.match(om.text, /^# TYPE process_cpu_seconds counter$/m)
  t.ok(om.text.endsWith('# EOF\n'))
  // prom-client renames counters in place when a registry renders OpenMetrics; ours must not.
  const prom = await scrape(app)
  t.match(prom.text, /^# TYPE http_requests_total counter$/m)
  t.match(prom.text, /^# TYPE process_cpu_seconds_total counter$/m)
  t.notMatch(prom.text, /# EOF/)
  t.equal(find(prom.samples, 'http_requests_total', { route: '/x' })[0]?.value, 1)
})

t.test('runtime metrics are on by default, with the event-loop utilization gauge in 0..1', async (t) => {
  const app = await buildApp(t)
  // Make garbage until a collection has been observed: prom-client's GC histogram has no sample
  // before the first one (its PerformanceObserver reports asynchronously).
  let { samples, text } = await scrape(app)
  for (let round = 0; round < 200 && find(samples, 'nodejs_gc_duration_seconds_count').length === 0; round++) {
    let garbage: unknown[] = []
    for (let i = 0; i < 20_000; i++) garbage.push({ i, s: `x${i}` })
    garbage = []
    await new Promise((resolve) => setTimeout(resolve, 5))
    ;({ samples, text } = await scrape(app))
  }
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_gc_duration_seconds_count', 'nodejs_version_info']) {
    t.ok(find(samples, name).length > 0, `${name} present`)
  }
  t.match(text, /^# TYPE nodejs_gc_duration_seconds histogram$/m)
  t.ok(find(samples, 'nodejs_gc_duration_seconds_count').every((s) => s.value > 0 && s.labels.kind !== undefined), 'GC durations by kind')
  const elu = find(samples, 'nodejs_eventloop_utilization_ratio')
  t.equal(elu.length, 1)
  t.ok((elu[0]?.value ?? -1) >= 0 && (elu[0]?.value ?? 2) <= 1, 'utilization is a ratio')
})

t.test('runtimeMetrics: false leaves them out', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false })
  const { text } = await scrape(app)
  t.notMatch(text, /process_cpu_seconds_total|nodejs_|process_resident/)
  t.match(text, /http_requests_in_flight 0/)
})

t.test('the scraped text passes promtool check metrics', { skip: requireTool('promtool').skip }, async (t) => {
  const app = await buildApp(t, { labelNames: ['tenant'], labels: () => ({ tenant: 'a "quoted"\\ value\nwith newline' }) })
  app.get('/api/orders/:id', async () => 'ok')
  app.get('/boom', async () => { throw new Error('x') })
  const orders = app.metrics.counter({ name: 'orders_created_total', help: 'Orders created.', labelNames: [] })
  orders.inc()
  app.metrics.histogram({ name: 'order_value_cents', help: 'Order value.', labelNames: ['currency'], buckets: [100, 1000] }).observe({ currency: 'EUR' }, 500)
  await app.inject('/api/orders/1')
  await app.inject('/boom')
  await app.inject('/nope')
  const { text, status } = await scrape(app)
  t.equal(status, 200)
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  t.equal(res.error, undefined, 'promtool ran')
  t.equal(res.status, 0, `promtool check metrics exit code (stderr: ${res.stderr}${res.stdout})`)
  t.equal(res.stderr.trim(), '', 'no lint findings')
})

t.test('a broken collector makes /metrics answer 500 quickly with the cause logged; requests are unaffected', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, {}, { logger: { level: 'warn', stream: logs.stream } })
  app.get('/x', async () => 'ok')
  app.metrics.gauge({ name: 'broken_gauge', help: 'Throws on collect.', collect () { throw new Error('disk is gone') } })
  t.equal((await app.inject('/x')).statusCode, 200)
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 500)
  t.notMatch(res.body, /disk is gone/, 'the cause is not leaked to the scraper')
  const line = logs.lines.find((l) => /collecting metrics failed/.test(l.msg))
  t.match(line, { level: 50, err: { message: /broken_gauge.*disk is gone/ } })
  t.equal((await app.inject('/x')).statusCode, 200)
  await t.rejects(app.metrics.render(), /broken_gauge/)
  const errors = await (app.metrics.registry.getSingleMetric('o11y_metrics_errors_total') as unknown as { get (): Promise<{ values: Array<{ labels: { source: string }, value: number }> }> }).get()
  t.equal(errors.values.find((v) => v.labels.source === 'collector')?.value, 1, 'the failed scrape is counted')
})

t.test('a collector that hangs answers 500 after endpoint.timeoutMs', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, { endpoint: { timeoutMs: 50 } }, { logger: { level: 'warn', stream: logs.stream } })
  app.metrics.gauge({ name: 'hanging_gauge', help: 'Never resolves.', collect: () => new Promise<void>(() => {}) })
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 500)
  t.match(logs.lines.find((l) => /collecting metrics failed/.test(l.msg)), { err: { message: /longer than 50 ms/ } })
  const again = await scrape(app)
  t.equal(again.status, 500, 'the next scrape is cut off the same way')
})

t.test('render: non-numeric sample values are left out and counted; registry default labels are applied', async (t) => {
  const registry = new Registry()
  registry.setDefaultLabels({ service: 'svc' })
  const bad = { name: 'bad_metric', help: 'x', type: 'gauge', get: async () => ({ name: 'bad_metric', help: 'x', type: 'gauge', values: [{ labels: {}, value: 'NaN?' }, { labels: { ok: 'yes' }, value: 2 }] }) }
  registry.registerMetric(bad as never)
  const g = new Gauge({ name: 'weird_values', help: 'help with \\ and\nnewline "q"', registers: [registry], labelNames: ['k'] })
  g.set({ k: 'a' }, NaN)
  g.set({ k: 'b' }, Infinity)
  g.set({ k: 'c' }, -Infinity)
  const reported: string[] = []
  const prom = await render(registry, 'prometheus', (m, d) => reported.push(`${m}: ${d}`))
  t.same(reported, ['bad_metric: value string NaN?'])
  t.match(prom, /^bad_metric\{service="svc",ok="yes"\} 2$/m)
  t.match(prom, /^# HELP weird_values help with \\\\ and\\nnewline "q"$/m)
  t.match(prom, /^weird_values\{service="svc",k="a"\} NaN$/m)
  t.match(prom, /^weird_values\{service="svc",k="b"\} \+Inf$/m)
  t.match(prom, /^weird_values\{service="svc",k="c"\} -Inf$/m)
  const om = await render(registry, 'openmetrics', () => {})
  t.match(om, /^# HELP weird_values help with \\\\ and\\nnewline \\"q\\"$/m)
})

t.test('bad values from a custom metric reach /metrics as a valid scrape and count in o11y_metrics_errors_total', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false })
  const bad = { name: 'custom_bad', help: 'x', type: 'gauge', get: async () => ({ name: 'custom_bad', help: 'x', type: 'gauge', values: [{ labels: {}, value: undefined }] }) }
  app.metrics.registry.registerMetric(bad as never)
  const { status, samples } = await scrape(app)
  t.equal(status, 200)
  t.equal(find(samples, 'custom_bad').length, 0)
  // The bad value is found while rendering, after the counters were read: the next scrape shows it.
  const next = await scrape(app)
  t.equal(find(next.samples, 'o11y_metrics_errors_total', { source: 'metric' })[0]?.value, 1)
  t.same(parseSamples('a{b="c"} 1 # {trace_id="t"} 1 2'), [{ name: 'a', labels: { b: 'c' }, value: 1, exemplar: { labels: { trace_id: 't' }, value: 1, timestamp: 2 } }])
})

t.test('RenderBuffer: values written as the exposition formats write them; text of any width', async (t) => {
  const values = [0, -0, 1, 9, 10, 99, 100, 101, 1009, 12345678901234, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1.5, -1, -0.25, 1e-7, 0.1 + 0.2,
    Number.NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE]
  const out = new RenderBuffer()
  for (const v of values) {
    out.value(v)
    out.byte(10)
  }
  t.equal(out.view().toString('latin1'), values.map((v) => formatValue(v) + '\n').join(''))
  out.release()
  const wide = new RenderBuffer()
  // Past the first 64 KiB, in one- to four-byte characters.
  const parts = ['ascii ', 'é', '€', '🚀', '\ud800']
  let expected = ''
  for (let i = 0; i < 30_000; i++) {
    const p = parts[i % parts.length] as string
    if (i % parts.length === 0) wide.ascii(p)
    else wide.text(p)
    expected += p
  }
  t.ok(wide.view().equals(Buffer.from(expected, 'utf8')), `${wide.length} bytes, as Buffer.from encodes them`)
  const copy = wide.finish()
  t.ok(copy.equals(Buffer.from(expected, 'utf8')), 'finish copies them out')
  wide.release()
  const next = new RenderBuffer()
  t.equal(next.length, 0, 'a buffer given back starts empty')
  next.release()
})

import { createServer } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { startOtlpGrpcReceiver, startOtlpReceiver, type OtlpReceiver, type ReceivedMetric } from '@o11y/test-utils'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { DEFAULT_BUCKETS, OTLP_ATTRIBUTES, OTLP_METRIC_NAMES, o11yMetrics, otlpName, type O11yMetricsOptions } from '../src/index'
import { find, logCapture, parseSamples, type Sample } from './fixtures/helpers'

const ORDERS = '/api/orders/:id'

async function app (t: Test, options: O11yMetricsOptions, lines?: ReturnType<typeof logCapture>): Promise<FastifyInstance> {
  const a = Fastify(lines !== undefined ? { logger: { level: 'warn', stream: lines.stream } } : {})
  t.teardown(() => a.close())
  await a.register(o11yMetrics, options)
  a.get(ORDERS, async (req) => ({ id: (req.params as { id: string }).id }))
  a.post('/api/orders', async (_req, reply) => reply.code(201).send({ ok: true }))
  a.get('/boom', async () => { throw new Error('boom') })
  return a
}

async function traffic (a: FastifyInstance, gets: number, posts: number): Promise<void> {
  for (let i = 0; i < gets; i++) t.equal((await a.inject(`/api/orders/${i}`)).statusCode, 200)
  for (let i = 0; i < posts; i++) t.equal((await a.inject({ method: 'POST', url: '/api/orders', payload: {} })).statusCode, 201)
}

const pointFor = (m: ReceivedMetric, attrs: Record<string, unknown>): ReceivedMetric['points'][number] | undefined =>
  m.points.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))

const ordersGet = { 'http.request.method': 'GET', 'http.route': ORDERS, 'http.response.status_code': 200 }

/** The latest export holding `name` whose point for `attrs` satisfies `ok`. */
function waitPoint (r: OtlpReceiver, name: string, attrs: Record<string, unknown>, ok: (p: ReceivedMetric['points'][number]) => boolean): Promise<ReceivedMetric> {
  return r.waitForMetrics((m) => {
    if (m.name !== name) return false
    const p = pointFor(m, attrs)
    return p !== undefined && ok(p)
  })
}

async function freeClosedPort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as { port: number }
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

async function exportsBy (a: FastifyInstance): Promise<Record<string, number>> {
  const samples = parseSamples(await a.metrics.render())
  const out: Record<string, number> = {}
  for (const s of find(samples, 'o11y_metrics_otlp_exports_total')) out[s.labels.result as string] = s.value
  return out
}

async function checkRequestMetrics (t: Test, r: OtlpReceiver, a: FastifyInstance): Promise<void> {
  await traffic(a, 5, 2)
  const postAttrs = { 'http.request.method': 'POST', 'http.route': '/api/orders', 'http.response.status_code': 201 }
  const counter = await r.waitForMetrics((m) => m.name === 'http.server.request.count' && pointFor(m, ordersGet)?.value === 5 && pointFor(m, postAttrs)?.value === 2)
  t.equal(counter.type, 'sum')
  t.equal(counter.isMonotonic, true)
  t.equal(counter.temporality, 2, 'cumulative')
  t.equal(counter.unit, '{request}')
  t.equal(counter.scope.name, '@o11y/metrics')
  t.equal(counter.resource['service.name'], 'otlp-test')

  const histogram = await waitPoint(r, 'http.server.request.duration', ordersGet, (p) => p.count === 5)
  t.equal(histogram.type, 'histogram')
  t.equal(histogram.unit, 's')
  const p = pointFor(histogram, ordersGet)
  t.same(p?.explicitBounds, DEFAULT_BUCKETS)
  t.equal(p?.bucketCounts?.length, DEFAULT_BUCKETS.length + 1)
  t.equal(p?.bucketCounts?.reduce((x, y) => x + y, 0), 5, 'bucket counts add up to the count')
  t.ok((p?.sum ?? 0) > 0)
  // Runtime and business metrics travel too.
  t.ok(r.metrics().some((m) => m.name === 'nodejs.eventloop.utilization' && m.unit === '1' && m.type === 'gauge'), 'runtime metrics are pushed')
  t.ok(r.metrics().some((m) => m.name === 'process.memory.usage' && m.unit === 'By'), 'process memory is pushed')
}

t.before(() => { process.env.OTEL_SERVICE_NAME = 'otlp-test' })
t.teardown(() => { delete process.env.OTEL_SERVICE_NAME })

t.test('push mode off loads no OpenTelemetry SDK module; on, it loads them', async (t) => {
  const sdkLoaded = (): string[] => Object.keys(require.cache).filter((k) => /@opentelemetry[/+](sdk-metrics|exporter-metrics-otlp)/.test(k)) // (resources is loaded by test-utils)
  const off = await app(t, {})
  await traffic(off, 1, 0)
  t.same(sdkLoaded(), [], 'nothing loaded without push mode')
  const on = await app(t, { otlp: { endpoint: 'http://127.0.0.1:9/v1/metrics', shutdownTimeoutMillis: 200 } })
  await on.ready()
  t.ok(sdkLoaded().length >= 2, 'loaded once push mode is on')
})

t.test('http/protobuf: the request counter and latency histogram arrive with the right counts; the scrape keeps working', async (t) => {
  const r = await startOtlpReceiver()
  t.teardown(() => r.close())
  const a = await app(t, { otlp: { endpoint: r.metricsUrl, intervalMillis: 200, timeoutMillis: 200 } })
  const orders = a.metrics.counter({ name: 'orders_placed_total', help: 'Orders placed.', labelNames: ['channel'] })
  orders.inc({ channel: 'web' }, 3)
  await checkRequestMetrics(t, r, a)
  const business = await r.waitForMetrics((m) => m.name === 'orders_placed' && pointFor(m, { channel: 'web' })?.value === 3)
  t.equal(business.type, 'sum')
  t.ok(r.requests.every((q) => q.path === '/v1/metrics' && q.contentType === 'application/x-protobuf'))

  const samples = parseSamples(await a.metrics.render())
  t.equal(find(samples, 'http_requests_total', { route: ORDERS })[0]?.value, 5, 'scrape beside push')
  t.equal((await a.inject('/metrics')).statusCode, 200)
  let success = 0
  for (let i = 0; i < 50 && success < 1; i++) {
    success = (await exportsBy(a)).success ?? 0
    if (success < 1) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(success >= 1, `successful exports are counted (${success})`)
})

t.test('gRPC: the same metrics arrive through MetricsService/Export', async (t) => {
  const r = await startOtlpGrpcReceiver()
  t.teardown(() => r.close())
  const a = await app(t, { otlp: { endpoint: r.url, protocol: 'grpc', intervalMillis: 200, timeoutMillis: 200 } })
  await checkRequestMetrics(t, r, a)
  t.ok(r.requests.every((q) => q.path === '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'))
})

t.test('the standard OTEL_* variables turn push mode on; `otlp: false` keeps it off', async (t) => {
  const r = await startOtlpReceiver()
  t.teardown(() => r.close())
  const env = {
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: r.url + '/',
    OTEL_METRIC_EXPORT_INTERVAL: '150',
    OTEL_METRIC_EXPORT_TIMEOUT: '100'
  }
  Object.assign(process.env, env)
  t.teardown(() => { for (const k of Object.keys(env)) delete process.env[k] })

  const off = await app(t, { otlp: false })
  await traffic(off, 1, 0)
  await off.close()
  const a = await app(t, {})
  await traffic(a, 3, 0)
  const counter = await waitPoint(r, 'http.server.request.count', ordersGet, (p) => p.value === 3)
  t.ok(counter, 'pushed to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics')
  t.ok(r.requests.every((q) => q.path === '/v1/metrics'))
  // Only the enabled app pushed: no export ever showed a count of 1.
  t.notOk(r.metrics().some((m) => m.name === 'http.server.request.count' && pointFor(m, ordersGet)?.value === 1), 'otlp: false pushed nothing')
})

t.test('a bad OTEL_* variable is warned once with a code and its default used', async (t) => {
  const env = { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json', OTEL_METRIC_EXPORT_INTERVAL: 'soon', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318' }
  Object.assign(process.env, env)
  t.teardown(() => { for (const k of Object.keys(env)) delete process.env[k] })
  const lines = logCapture()
  const a = await app(t, { otlp: { shutdownTimeoutMillis: 200 } }, lines)
  await a.ready()
  const warnings = lines.lines.filter((l) => l.code === 'O11Y_ERR_METRICS_OTLP_ENV')
  t.equal(warnings.length, 3)
  t.match(warnings.map((w) => w.msg).join('\n'), /OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="http\/json"[\s\S]*OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="collector:4318"[\s\S]*OTEL_METRIC_EXPORT_INTERVAL="soon"/)
})

t.test('bad `otlp` options are coded errors at registration', async (t) => {
  const bad: unknown[] = [
    'yes', 1, [], { endpoint: 'collector:4318' }, { endpoint: 'ftp://x' }, { protocol: 'http/json' },
    { intervalMillis: 0 }, { intervalMillis: 1.5 }, { timeoutMillis: -1 }, { shutdownTimeoutMillis: '1000' },
    { intervalMillis: 1000, timeoutMillis: 2000 }, { url: 'http://localhost:4318' }
  ]
  for (const otlp of bad) {
    const a = Fastify()
    await t.rejects(async () => { await a.register(o11yMetrics, { otlp } as unknown as O11yMetricsOptions) }, { code: 'O11Y_ERR_METRICS_OTLP' }, JSON.stringify(otlp))
    await a.close()
  }
})

t.test('the OTLP names and units map to the Prometheus names: every scraped series has its OTLP twin with the same value', async (t) => {
  for (const naming of ['default', 'otel'] as const) {
    const r = await startOtlpReceiver()
    t.teardown(() => r.close())
    const a = await app(t, { naming, runtimeMetrics: false, otlp: { endpoint: r.metricsUrl, intervalMillis: 60_000, shutdownTimeoutMillis: 3000 } })
    a.metrics.histogram({ name: 'payment_seconds', help: 'Payment time.', labelNames: ['provider'], buckets: [0.1, 1] }).observe({ provider: 'x' }, 0.5)
    a.metrics.gauge({ name: 'queue_depth', help: 'Queue depth.' }).set(7)
    a.metrics.track('charge', () => 1)()
    await traffic(a, 4, 1)
    await a.inject('/boom')
    const text = await a.metrics.render()
    const scraped = parseSamples(text)
    await a.close()
    const pushed = r.metrics()
    t.ok(pushed.length > 0, `${naming}: the final export arrived on close`)

    const families = new Map<string, { type: string, samples: Sample[] }>()
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1] as string, { type: m[2] as string, samples: [] })
    for (const s of scraped) {
      const family = [...families.keys()].find((f) => s.name === f || s.name === `${f}_bucket` || s.name === `${f}_sum` || s.name === `${f}_count`)
      families.get(family as string)?.samples.push(s)
    }
    let checked = 0
    for (const [prom, { type, samples }] of families) {
      if (prom === 'o11y_metrics_otlp_exports_total') continue // changes with the very export that carries it
      const { name, unit } = otlpName(prom, type)
      const known = OTLP_METRIC_NAMES[prom]
      if (known !== undefined) t.same({ name, unit }, known)
      const twin = pushed.find((m) => m.name === name)
      if (!t.ok(twin, `${naming}: ${prom} -> ${name}`)) continue
      t.equal(twin?.unit, unit, `${prom}: unit ${unit}`)
      const attrsOf = (labels: Record<string, string>): Record<string, unknown> => {
        const out: Record<string, unknown> = {}
        for (const [k, v] of Object.entries(labels)) {
          if (k === 'le') continue
          const key = known !== undefined ? (OTLP_ATTRIBUTES[k] ?? k) : k
          out[key] = key === 'http.response.status_code' ? Number(v) : v
        }
        return out
      }
      for (const s of samples) {
        const p = twin === undefined ? undefined : pointFor(twin, attrsOf(s.labels))
        if (type === 'histogram') {
          if (s.name.endsWith('_count')) t.equal(p?.count, s.value, `${s.name} ${JSON.stringify(s.labels)}`)
          else if (s.name.endsWith('_sum')) t.ok(Math.abs((p?.sum ?? NaN) - s.value) < 1e-9, `${s.name} ${JSON.stringify(s.labels)}`)
          else if (s.labels.le !== undefined) {
            const bounds = p?.explicitBounds ?? []
            const i = s.labels.le === '+Inf' ? bounds.length : bounds.indexOf(Number(s.labels.le))
            const cumulative = (p?.bucketCounts ?? []).slice(0, i + 1).reduce((x, y) => x + y, 0)
            t.equal(cumulative, s.value, `${s.name} ${JSON.stringify(s.labels)}`)
          }
        } else {
          t.equal(p?.value, s.value, `${s.name} ${JSON.stringify(s.labels)}`)
        }
        checked++
      }
    }
    t.ok(checked > 20, `${naming}: ${checked} scraped samples matched their OTLP points`)
    const expected = naming === 'default'
      ? ['http.server.request.count', 'http.server.request.duration', 'http.server.request.exceptions', 'http.server.active_requests', 'payment', 'queue_depth', 'function_calls', 'function_duration']
      : ['http.server.request.duration', 'http.server.active_requests', 'payment', 'queue_depth', 'function_calls', 'function_duration']
    for (const name of expected) t.ok(pushed.some((m) => m.name === name), `${naming}: ${name} pushed`)
  }
})

t.test('a dead collector (closed port) costs no request, is counted and warned once, and memory stays bounded', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const port = await freeClosedPort()
  const lines = logCapture()
  const a = await app(t, { otlp: { endpoint: `http://127.0.0.1:${port}/v1/metrics`, intervalMillis: 20, timeoutMillis: 20, shutdownTimeoutMillis: 500 } }, lines)
  const heap: number[] = []
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 1500; i++) {
      const res = await a.inject(`/api/orders/${i}`)
      if (res.statusCode !== 200) t.fail(`request ${i} answered ${res.statusCode}`)
    }
    // Two full collections with a turn of the event loop between: one alone leaves garbage behind now and then.
    await new Promise((resolve) => setTimeout(resolve, 100))
    gc()
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    heap.push(process.memoryUsage().heapUsed)
  }
  t.comment(`heapUsed after each round of 1500 requests with a dead collector (MB): ${heap.map((h) => (h / 1048576).toFixed(1)).join(', ')}`)
  const growth = (heap[5] as number) - (heap[1] as number)
  t.ok(growth < 8 * 1048576, `heap grew ${(growth / 1048576).toFixed(2)} MB between rounds 2 and 6 (bound 8 MB)`)
  const scraped = parseSamples(await a.metrics.render())
  t.equal(find(scraped, 'http_requests_total', { route: ORDERS })[0]?.value, 9000, 'every request recorded')
  const exports = await exportsBy(a)
  t.ok((exports.failure ?? 0) >= 2, `failed exports counted: ${JSON.stringify(exports)}`)
  t.equal(exports.success, 0)
  const warned = lines.lines.filter((l) => l.code === 'O11Y_ERR_METRICS_OTLP_EXPORT_FAILED')
  t.equal(warned.length, 1, 'warned once')
  t.match(warned[0]?.msg, /pushing metrics to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics over OTLP failed/)
  const started = Date.now()
  await a.close()
  t.ok(Date.now() - started < 500 + 1000, 'close returned within shutdownTimeoutMillis (+1 s slack)')
})

t.test('gRPC to a dead collector (closed port): failures counted and warned once, close within its bound', async (t) => {
  const port = await freeClosedPort()
  const lines = logCapture()
  const a = await app(t, { otlp: { endpoint: `http://127.0.0.1:${port}`, protocol: 'grpc', intervalMillis: 100, timeoutMillis: 100, shutdownTimeoutMillis: 500 } }, lines)
  const until = Date.now() + 1000
  let n = 0
  while (Date.now() < until) {
    const res = await a.inject(`/api/orders/${n++}`)
    if (res.statusCode !== 200) t.fail(`request answered ${res.statusCode}`)
    if (n % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const exports = await exportsBy(a)
  t.ok((exports.failure ?? 0) + (exports.skipped ?? 0) >= 2, `failed exports counted: ${JSON.stringify(exports)}`)
  t.equal(exports.success, 0)
  t.equal(lines.lines.filter((l) => l.code === 'O11Y_ERR_METRICS_OTLP_EXPORT_FAILED').length, 1, 'warned once')
  const started = Date.now()
  await a.close()
  t.ok(Date.now() - started < 500 + 1000, `close returned within shutdownTimeoutMillis (+1 s slack): ${Date.now() - started} ms`)
})

t.test('a hanging collector: one export in flight at most, requests unaffected, close within its bound', async (t) => {
  const r = await startOtlpReceiver({ mode: 'hang' })
  t.teardown(() => r.close())
  const lines = logCapture()
  const a = await app(t, { otlp: { endpoint: r.metricsUrl, intervalMillis: 100, timeoutMillis: 100, shutdownTimeoutMillis: 800 } }, lines)
  const until = Date.now() + 1500
  let n = 0
  while (Date.now() < until) {
    const res = await a.inject(`/api/orders/${n++}`)
    if (res.statusCode !== 200) t.fail(`request answered ${res.statusCode}`)
    if (n % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  t.comment(`${n} requests while the collector hung; receiver saw ${r.requests.length} exports, at most ${r.openRequests().max} open at once`)
  t.ok(r.requests.length >= 2, 'exports kept being attempted')
  t.ok(r.openRequests().max <= 2, `exports do not pile up (max open ${r.openRequests().max})`)
  const exports = await exportsBy(a)
  t.ok((exports.failure ?? 0) + (exports.skipped ?? 0) >= 2, `timed-out exports counted: ${JSON.stringify(exports)}`)
  t.equal(lines.lines.filter((l) => l.code === 'O11Y_ERR_METRICS_OTLP_EXPORT_FAILED').length, 1)
  const started = Date.now()
  await a.close()
  const took = Date.now() - started
  t.comment(`close took ${took} ms with a hanging collector (bound 800 ms)`)
  t.ok(took < 800 + 700, 'close returned within shutdownTimeoutMillis (+0.7 s slack)')
})

t.test('shutdown flushes the last interval within its bound when the collector is up', async (t) => {
  for (const grpc of [false, true]) {
    const r = grpc ? await startOtlpGrpcReceiver() : await startOtlpReceiver()
    t.teardown(() => r.close())
    // The interval never fires during the test: whatever arrives comes from the flush on close.
    const a = await app(t, { otlp: { endpoint: grpc ? r.url : r.metricsUrl, protocol: grpc ? 'grpc' : 'http/protobuf', intervalMillis: 600_000, shutdownTimeoutMillis: 2000 } })
    await traffic(a, 7, 0)
    t.equal(r.requests.length, 0, 'nothing exported before close')
    const started = Date.now()
    await a.close()
    const took = Date.now() - started
    t.ok(took < 2000, `${grpc ? 'grpc' : 'http'}: close took ${took} ms (bound 2000)`)
    const counter = r.metrics().find((m) => m.name === 'http.server.request.count')
    t.equal(counter === undefined ? undefined : pointFor(counter, ordersGet)?.value, 7, 'the last counts arrived')
    const histogram = r.metrics().find((m) => m.name === 'http.server.request.duration')
    t.equal(histogram === undefined ? undefined : pointFor(histogram, ordersGet)?.count, 7)
  }
})

t.test('a throwing collector loses only its own metric; the export goes on and the failure is counted', async (t) => {
  const r = await startOtlpReceiver()
  t.teardown(() => r.close())
  const lines = logCapture()
  const a = await app(t, { otlp: { endpoint: r.metricsUrl, intervalMillis: 100, timeoutMillis: 100 } }, lines)
  a.metrics.gauge({ name: 'broken_gauge', help: 'Throws.', collect () { throw new Error('collector down') } })
  await traffic(a, 2, 0)
  await waitPoint(r, 'http.server.request.count', ordersGet, (p) => p.value === 2)
  t.notOk(r.metrics().some((m) => m.name === 'broken_gauge'), 'the broken metric is left out')
  // The scrape answers 500 on a broken collector; the count travels in the push itself.
  const errors = await r.waitForMetrics((m) => m.name === 'o11y_metrics_errors' && (pointFor(m, { source: 'collector' })?.value ?? 0) >= 1)
  t.ok(errors, 'counted in o11y_metrics_errors_total{source="collector"}')
  const logged = lines.lines.filter((l) => l.source === 'collector' && l.key === 'otlp')
  t.equal(logged.length, 1, 'logged once')
  t.match(String(logged[0]?.err?.message), /collector down/)
})

t.test('a refusing collector: failures counted, warned once, nothing thrown', async (t) => {
  const r = await startOtlpReceiver({ mode: 'refuse' })
  t.teardown(() => r.close())
  const lines = logCapture()
  const a = await app(t, { otlp: { endpoint: r.metricsUrl, intervalMillis: 50, timeoutMillis: 50, shutdownTimeoutMillis: 300 } }, lines)
  await traffic(a, 3, 0)
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.ok(r.requests.length >= 2)
  const exports = await exportsBy(a)
  t.ok((exports.failure ?? 0) >= 1, JSON.stringify(exports))
  t.equal(lines.lines.filter((l) => l.code === 'O11Y_ERR_METRICS_OTLP_EXPORT_FAILED').length, 1)
})

import { context, trace, type Span } from '@opentelemetry/api'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp, find, logCapture, scrape } from './fixtures/helpers'
import { setupTracing } from './fixtures/tracing'

const tracing = setupTracing()
t.teardown(() => tracing.shutdown())

/** Runs one request inside an active span, the way @o11y/tracing makes the request span active. */
async function injectInSpan (app: FastifyInstance, url: string, sampled = true): Promise<{ traceId: string, spanId: string }> {
  const tracer = sampled ? tracing.tracer : tracing.unsampledTracer
  return await tracer.startActiveSpan(`GET ${url}`, async (span) => {
    await app.inject(url)
    span.end()
    return { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId }
  })
}

t.test('with an active sampled span, OpenMetrics carries trace_id/span_id exemplars on the histogram and the counter', async (t) => {
  const app = await buildApp(t)
  app.get('/api/orders/:id', async () => ({ ok: true }))
  app.get('/boom', async () => { throw new Error('x') })
  const first = await injectInSpan(app, '/api/orders/1')
  const last = await injectInSpan(app, '/api/orders/2')
  const boom = await injectInSpan(app, '/boom')
  t.equal(tracing.exporter.getFinishedSpans().length, 3, 'real spans were exported')
  t.not(first.traceId, last.traceId)

  const { samples } = await scrape(app, true)
  const counter = find(samples, 'http_requests_total', { route: '/api/orders/:id' })[0]
  t.same(counter?.exemplar?.labels, { trace_id: last.traceId, span_id: last.spanId }, 'the counter keeps the latest exemplar')
  t.equal(counter?.exemplar?.value, 1)
  t.ok(Math.abs((counter?.exemplar?.timestamp ?? 0) - Date.now() / 1000) < 60, 'exemplar timestamp is in seconds')
  const withEx = find(samples, 'http_request_duration_seconds_bucket', { route: '/api/orders/:id' }).filter((s) => s.exemplar !== undefined)
  t.ok(withEx.length >= 1, 'at least one bucket has an exemplar')
  const ids = new Set(withEx.map((s) => s.exemplar?.labels.trace_id))
  t.ok(ids.has(last.traceId), 'the latest trace id is an exemplar of its bucket')
  for (const s of withEx) {
    t.ok((s.exemplar?.value ?? Infinity) <= (s.labels.le === '+Inf' ? Infinity : Number(s.labels.le)), 'exemplar value lies in its bucket')
  }
  t.same(find(samples, 'http_requests_exceptions_total', { route: '/boom' })[0]?.exemplar?.labels, { trace_id: boom.traceId, span_id: boom.spanId })

  const prom = await scrape(app, false)
  t.notMatch(prom.text, /trace_id/, 'no exemplars in Prometheus text 0.0.4')
})

t.test('no exemplar without a span or with an unsampled span', async (t) => {
  const app = await buildApp(t)
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  await injectInSpan(app, '/x', false)
  const { samples, text } = await scrape(app, true)
  t.equal(find(samples, 'http_requests_total', { route: '/x' })[0]?.value, 2)
  t.notMatch(text, /trace_id/)
})

t.test('exemplars: false never reads the span', async (t) => {
  const app = await buildApp(t, { exemplars: false })
  app.get('/x', async () => 'ok')
  await injectInSpan(app, '/x')
  const { text } = await scrape(app, true)
  t.match(text, /http_requests_total\{method="GET",route="\/x",status_code="200"\} 1\n/)
  t.notMatch(text, /trace_id/)
})

t.test("naming: 'otel' puts exemplars on http_server_request_duration_seconds buckets", async (t) => {
  const app = await buildApp(t, { naming: 'otel' })
  app.get('/x', async () => 'ok')
  const { traceId } = await injectInSpan(app, '/x')
  const { samples } = await scrape(app, true)
  t.ok(find(samples, 'http_server_request_duration_seconds_bucket').some((s) => s.exemplar?.labels.trace_id === traceId))
})

t.test('a span that throws when read never fails the request: the exemplar is skipped, logged once, counted', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, {}, { logger: { level: 'warn', stream: logs.stream } })
  app.get('/x', async () => 'ok')
  app.get('/boom', async () => { throw new Error('x') })
  const broken = { spanContext () { throw new Error('broken span') } } as unknown as Span
  await context.with(trace.setSpan(context.active(), broken), async () => {
    t.equal((await app.inject('/x')).statusCode, 200)
    t.equal((await app.inject('/x')).statusCode, 200)
    t.equal((await app.inject('/boom')).statusCode, 500)
  })
  const { samples } = await scrape(app, true)
  t.equal(find(samples, 'http_requests_total', { route: '/x' })[0]?.value, 2)
  t.equal(find(samples, 'o11y_metrics_errors_total', { source: 'exemplar' })[0]?.value, 4)
  t.equal(logs.lines.filter((l) => l.source === 'exemplar').length, 1)
})

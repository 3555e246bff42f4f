// The three plugins together, as a service registers them: the real @o11y/tracing plugin (its
// SERVER span recorded by the in-memory provider of @o11y/test-utils), the real @o11y/metrics
// plugin and this package. Whatever the registration order, the request line and the handler's
// lines carry the SERVER span's ids, and the OpenMetrics scrape shows that trace id as exemplar.
import { SpanKind } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'
import { createMemoryTracing } from '@o11y/test-utils'
import { o11yMetrics } from '@o11y/metrics'
import { o11yTracing } from '@o11y/tracing'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { fastifyLoggerOptions, o11yLogging } from '../src/index'
import { capture } from './helpers'
import type { Capture } from './helpers'

const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'

type Name = 'tracing' | 'metrics' | 'logging'
const PLUGINS: Record<Name, (app: FastifyInstance) => Promise<unknown>> = {
  tracing: async (app) => await app.register(o11yTracing),
  metrics: async (app) => await app.register(o11yMetrics, { runtimeMetrics: false }),
  logging: async (app) => await app.register(o11yLogging)
}

function permutations<T> (items: T[]): T[][] {
  if (items.length <= 1) return [items]
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))
}

const memory = createMemoryTracing()
t.teardown(() => memory.shutdown())

async function buildApp (t: tap.Test, order: Name[]): Promise<{ app: FastifyInstance, out: Capture }> {
  const out = capture()
  const app = Fastify({ ...fastifyLoggerOptions({ name: 'orders', destination: out }) })
  t.teardown(() => app.close())
  for (const name of order) await PLUGINS[name](app)
  app.get('/api/orders/:id', async function getOrder (request) {
    request.log.info({ order_id: (request.params as { id: string }).id }, 'loading order')
    return { ok: true }
  })
  return { app, out }
}

function serverSpans (): ReadableSpan[] {
  return memory.spans().filter((span) => span.kind === SpanKind.SERVER && span.name === 'GET /api/orders/:id')
}


/** `trace_id` exemplar labels of the `http_requests_total` and histogram bucket lines of a route. */
function exemplarTraceIds (text: string, metric: string, route: string): string[] {
  const ids: string[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric) || !line.includes(`route="${route}"`)) continue
    const match = / # \{[^}]*trace_id="([0-9a-f]{32})"/.exec(line)
    if (match !== null) ids.push(match[1]!)
  }
  return ids
}

for (const order of permutations<Name>(['tracing', 'metrics', 'logging'])) {
  t.test(`registered as ${order.join(', ')}: log lines and exemplars carry the SERVER span's trace id`, async (t) => {
    memory.reset()
    const { app, out } = await buildApp(t, order)
    const first = await app.inject('/api/orders/1')
    const second = await app.inject('/api/orders/2')
    t.same([first.statusCode, second.statusCode], [200, 200])

    const spans = serverSpans()
    t.equal(spans.length, 2, 'one SERVER span per request')
    const lines = out.lines().filter((line) => line.route === '/api/orders/:id' || line.message === 'loading order')
    t.same(lines.map((line) => line.message), ['loading order', 'request completed', 'loading order', 'request completed'])
    for (const [index, span] of spans.entries()) {
      const { traceId, spanId } = span.spanContext()
      const [handler, completed] = lines.slice(index * 2, index * 2 + 2)
      for (const line of [handler!, completed!]) {
        t.equal(line.trace_id, traceId, `${line.message as string}: trace_id of the SERVER span`)
        t.equal(line.trace_flags, '01')
      }
      // Lifecycle spans are off by default: in every order the SERVER span is the active span in the
      // handler and in every onResponse hook.
      t.equal(completed!.span_id, spanId, 'the request line: span_id of the SERVER span')
      t.equal(handler!.span_id, spanId, 'the handler line: span_id of the SERVER span')
    }
    t.not(spans[0]!.spanContext().traceId, spans[1]!.spanContext().traceId)

    const scrape = await app.inject({ url: '/metrics', headers: { accept: OPENMETRICS_ACCEPT } })
    t.equal(scrape.statusCode, 200)
    t.match(scrape.headers['content-type'], /application\/openmetrics-text/)
    const latest = spans[1]!.spanContext().traceId
    t.same(exemplarTraceIds(scrape.body, 'http_requests_total{', '/api/orders/:id'), [latest], 'the request counter exemplar is the latest SERVER trace')
    const counterLine = scrape.body.split('\n').find((line) => line.startsWith('http_requests_total{') && line.includes('route="/api/orders/:id"'))
    const exemplarSpanId = / # \{[^}]*span_id="([0-9a-f]{16})"/.exec(counterLine ?? '')?.[1]
    t.equal(exemplarSpanId, spans[1]!.spanContext().spanId, 'the counter exemplar: span_id of the SERVER span')
    const bucketIds = exemplarTraceIds(scrape.body, 'http_request_duration_seconds_bucket{', '/api/orders/:id')
    t.ok(bucketIds.includes(latest), 'a latency bucket carries the latest SERVER trace id')
    const known = new Set(spans.map((span) => span.spanContext().traceId))
    t.ok(bucketIds.every((id) => known.has(id)), 'every bucket exemplar is a SERVER trace of this test')
  })
}

t.test('lines @o11y/logging drops reach the /metrics of @o11y/metrics through the documented hook (no import between them)', async (t) => {
  // /dev/full answers every write with ENOSPC: the destination stops and counts every line as dropped.
  const app = Fastify(fastifyLoggerOptions({ destination: '/dev/full', name: 'drops' }))
  await app.register(o11yMetrics)
  app.get('/x', async (request) => {
    for (let i = 0; i < 20; i++) request.log.info({ i }, 'line')
    return 'ok'
  })
  t.teardown(() => app.close())
  const before = Number(/^o11y_logging_dropped_lines_total (\d+)/m.exec((await app.inject('/metrics')).body)?.[1] ?? 'NaN')
  for (let i = 0; i < 5; i++) t.equal((await app.inject('/x')).statusCode, 200, 'the request is served')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const body = (await app.inject('/metrics')).body
  const after = Number(/^o11y_logging_dropped_lines_total (\d+)/m.exec(body)?.[1] ?? 'NaN')
  t.comment(`o11y_logging_dropped_lines_total ${before} -> ${after}`)
  t.ok(after - before >= 100, `at least the 100 handler lines are counted (${after - before})`)
})

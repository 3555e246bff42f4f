import { context, trace } from '@opentelemetry/api'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { collectFamilies, renderFamilies, type ExpositionFormat } from '../src/exposition'
import { render } from '../src/index'
import { buildApp } from './fixtures/helpers'
import { setupTracing } from './fixtures/tracing'

const tracing = setupTracing()
t.teardown(() => tracing.shutdown())

const FORMATS: ExpositionFormat[] = ['prometheus', 'openmetrics']

/** Request series of every shape: several routes and statuses, an exception, a 404, a route with its own buckets, escaped label values. */
async function populate (app: FastifyInstance, sampled: boolean): Promise<void> {
  app.get('/api/orders/:id', async () => ({ ok: true }))
  app.get('/slow', { config: { metrics: { buckets: [0.5, 5] } } }, async () => 'ok')
  app.get('/boom', async () => { throw new Error('x') })
  app.get('/teapot', async (_request, reply) => await reply.code(418).send('short and stout'))
  const urls = ['/api/orders/1', '/api/orders/2', '/slow', '/boom', '/teapot', '/nope', '/api/orders/3?tenant=x']
  for (const url of urls) {
    if (sampled) await tracing.tracer.startActiveSpan(`GET ${url}`, async (span) => { await app.inject(url); span.end() })
    else await context.with(trace.deleteSpan(context.active()), async () => { await app.inject(url) })
  }
}

t.test("the request metrics' direct renderer writes exactly what the generic one writes from their samples, in both formats, exemplars included", async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, labelNames: ['tenant'], labels: (req) => ({ tenant: (req.query as { tenant?: string }).tenant ?? 'a "quoted"\\ value\nwith newline' }) })
  await populate(app, true)
  const registry = app.metrics.registry
  for (const format of FORMATS) {
    const bad: string[] = []
    const direct = await render(registry, format, (m) => bad.push(m))
    const generic = renderFamilies(await collectFamilies(registry), registry, format, (m) => bad.push(m))
    t.equal(direct, generic, `${format}: same bytes`)
    t.same(bad, [])
    if (format === 'openmetrics') t.match(direct, /# \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\} /, 'exemplars were written')
  }
})

/**
 * Fixed values, fixed bytes: business metrics of every type with escaped label values and a
 * `_total` counter, and the request counters (their counts do not depend on timing). Duration
 * buckets and sums do, so only their `_count` lines are kept.
 */
t.test('golden exposition: fixed values render to these exact bytes in both formats', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, exemplars: false })
  app.metrics.counter({ name: 'orders_created_total', help: 'Orders created.\nSecond "line" \\ here.', labelNames: ['currency'] }).inc({ currency: 'EUR' }, 3)
  app.metrics.gauge({ name: 'queue_depth', help: 'Jobs waiting.', labelNames: ['queue'] }).set({ queue: 'a "b"\\c\nd' }, -1.5)
  app.metrics.histogram({ name: 'order_value_cents', help: 'Order value.', labelNames: ['currency'], buckets: [100, 1000] }).observe({ currency: 'EUR' }, 500)
  await populate(app, false)
  const timing = /^http_request_duration_seconds_(bucket|sum)\{/
  const golden = async (format: ExpositionFormat): Promise<string> =>
    (await app.metrics.render(format)).split('\n').filter((line) => !timing.test(line)).join('\n')
  t.equal(await golden('prometheus'), PROMETHEUS_GOLDEN.join('\n'))
  t.equal(await golden('openmetrics'), OPENMETRICS_GOLDEN.join('\n'))
})

const PROMETHEUS_GOLDEN = [
  '# HELP http_requests_total Total number of HTTP requests handled, by method, route template and status code.',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="GET",route="/api/orders/:id",status_code="200"} 3',
  'http_requests_total{method="GET",route="/slow",status_code="200"} 1',
  'http_requests_total{method="GET",route="/boom",status_code="500"} 1',
  'http_requests_total{method="GET",route="/teapot",status_code="418"} 1',
  'http_requests_total{method="GET",route="__unmatched__",status_code="404"} 1',
  '',
  '# HELP http_request_duration_seconds Duration of HTTP requests in seconds, by method, route template and status code.',
  '# TYPE http_request_duration_seconds histogram',
  'http_request_duration_seconds_count{method="GET",route="/api/orders/:id",status_code="200"} 3',
  'http_request_duration_seconds_count{method="GET",route="/slow",status_code="200"} 1',
  'http_request_duration_seconds_count{method="GET",route="/boom",status_code="500"} 1',
  'http_request_duration_seconds_count{method="GET",route="/teapot",status_code="418"} 1',
  'http_request_duration_seconds_count{method="GET",route="__unmatched__",status_code="404"} 1',
  '',
  '# HELP http_requests_exceptions_total Total number of requests that raised an error, by method, route template and error class or code.',
  '# TYPE http_requests_exceptions_total counter',
  'http_requests_exceptions_total{method="GET",route="/boom",exception="Error"} 1',
  '',
  '# HELP http_requests_in_flight Number of HTTP requests being handled right now.',
  '# TYPE http_requests_in_flight gauge',
  'http_requests_in_flight 0',
  '',
  '# HELP o11y_metrics_errors_total Failures inside telemetry (label functions, custom metrics, collectors, exemplars) that were contained, by source.',
  '# TYPE o11y_metrics_errors_total counter',
  'o11y_metrics_errors_total{source="label_function"} 0',
  'o11y_metrics_errors_total{source="metric"} 0',
  'o11y_metrics_errors_total{source="collector"} 0',
  'o11y_metrics_errors_total{source="exemplar"} 0',
  '',
  '# HELP o11y_metrics_overflow_total Observations sent to the overflow series because a metric reached maxLabelSets label sets, by metric.',
  '# TYPE o11y_metrics_overflow_total counter',
  '',
  '# HELP o11y_metrics_scrapes_total Scrapes of the metrics endpoint, by result: rendered (a new render), shared (joined a render in progress), cached (a render younger than endpoint.minIntervalMs), unauthorized, failed.',
  '# TYPE o11y_metrics_scrapes_total counter',
  'o11y_metrics_scrapes_total{result="rendered"} 0',
  'o11y_metrics_scrapes_total{result="shared"} 0',
  'o11y_metrics_scrapes_total{result="cached"} 0',
  'o11y_metrics_scrapes_total{result="unauthorized"} 0',
  'o11y_metrics_scrapes_total{result="failed"} 0',
  '',
  '# HELP orders_created_total Orders created.\\nSecond "line" \\\\ here.',
  '# TYPE orders_created_total counter',
  'orders_created_total{currency="EUR"} 3',
  '',
  '# HELP queue_depth Jobs waiting.',
  '# TYPE queue_depth gauge',
  'queue_depth{queue="a \\"b\\"\\\\c\\nd"} -1.5',
  '',
  '# HELP order_value_cents Order value.',
  '# TYPE order_value_cents histogram',
  'order_value_cents_bucket{le="100",currency="EUR"} 0',
  'order_value_cents_bucket{le="1000",currency="EUR"} 1',
  'order_value_cents_bucket{le="+Inf",currency="EUR"} 1',
  'order_value_cents_sum{currency="EUR"} 500',
  'order_value_cents_count{currency="EUR"} 1',
  '',
  ''
]
const OPENMETRICS_GOLDEN = [
  '# HELP http_requests Total number of HTTP requests handled, by method, route template and status code.',
  '# TYPE http_requests counter',
  'http_requests_total{method="GET",route="/api/orders/:id",status_code="200"} 3',
  'http_requests_total{method="GET",route="/slow",status_code="200"} 1',
  'http_requests_total{method="GET",route="/boom",status_code="500"} 1',
  'http_requests_total{method="GET",route="/teapot",status_code="418"} 1',
  'http_requests_total{method="GET",route="__unmatched__",status_code="404"} 1',
  '# HELP http_request_duration_seconds Duration of HTTP requests in seconds, by method, route template and status code.',
  '# TYPE http_request_duration_seconds histogram',
  'http_request_duration_seconds_count{method="GET",route="/api/orders/:id",status_code="200"} 3',
  'http_request_duration_seconds_count{method="GET",route="/slow",status_code="200"} 1',
  'http_request_duration_seconds_count{method="GET",route="/boom",status_code="500"} 1',
  'http_request_duration_seconds_count{method="GET",route="/teapot",status_code="418"} 1',
  'http_request_duration_seconds_count{method="GET",route="__unmatched__",status_code="404"} 1',
  '# HELP http_requests_exceptions Total number of requests that raised an error, by method, route template and error class or code.',
  '# TYPE http_requests_exceptions counter',
  'http_requests_exceptions_total{method="GET",route="/boom",exception="Error"} 1',
  '# HELP http_requests_in_flight Number of HTTP requests being handled right now.',
  '# TYPE http_requests_in_flight gauge',
  'http_requests_in_flight 0',
  '# HELP o11y_metrics_errors Failures inside telemetry (label functions, custom metrics, collectors, exemplars) that were contained, by source.',
  '# TYPE o11y_metrics_errors counter',
  'o11y_metrics_errors_total{source="label_function"} 0',
  'o11y_metrics_errors_total{source="metric"} 0',
  'o11y_metrics_errors_total{source="collector"} 0',
  'o11y_metrics_errors_total{source="exemplar"} 0',
  '# HELP o11y_metrics_overflow Observations sent to the overflow series because a metric reached maxLabelSets label sets, by metric.',
  '# TYPE o11y_metrics_overflow counter',
  '# HELP o11y_metrics_scrapes Scrapes of the metrics endpoint, by result: rendered (a new render), shared (joined a render in progress), cached (a render younger than endpoint.minIntervalMs), unauthorized, failed.',
  '# TYPE o11y_metrics_scrapes counter',
  'o11y_metrics_scrapes_total{result="rendered"} 0',
  'o11y_metrics_scrapes_total{result="shared"} 0',
  'o11y_metrics_scrapes_total{result="cached"} 0',
  'o11y_metrics_scrapes_total{result="unauthorized"} 0',
  'o11y_metrics_scrapes_total{result="failed"} 0',
  '# HELP orders_created Orders created.\\nSecond \\"line\\" \\\\ here.',
  '# TYPE orders_created counter',
  'orders_created_total{currency="EUR"} 3',
  '# HELP queue_depth Jobs waiting.',
  '# TYPE queue_depth gauge',
  'queue_depth{queue="a \\"b\\"\\\\c\\nd"} -1.5',
  '# HELP order_value_cents Order value.',
  '# TYPE order_value_cents histogram',
  'order_value_cents_bucket{le="100",currency="EUR"} 0',
  'order_value_cents_bucket{le="1000",currency="EUR"} 1',
  'order_value_cents_bucket{le="+Inf",currency="EUR"} 1',
  'order_value_cents_sum{currency="EUR"} 500',
  'order_value_cents_count{currency="EUR"} 1',
  '# EOF',
  ''
]

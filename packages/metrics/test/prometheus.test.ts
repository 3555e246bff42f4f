import { requireTool, startPrometheus } from '@o11y/test-utils'
import Fastify from 'fastify'
import t from 'tap'
import { o11yMetrics } from '../src/index'
import { setupTracing } from './fixtures/tracing'

const tool = requireTool('prometheus')

t.test('a real Prometheus scrapes the app: rate by route, p95 by route and trace-id exemplars', { skip: tool.skip, timeout: 120_000 }, async (t) => {
  const tracing = setupTracing()
  t.teardown(() => tracing.shutdown())

  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(o11yMetrics, { endpoint: { auth: { type: 'bearer', token: 'scrape-token' } } })
  app.get('/api/orders/:id', async (req) => ({ id: (req.params as { id: string }).id }))
  app.post('/api/orders', async (_req, reply) => reply.code(201).send({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }

  const prom = await startPrometheus({
    configYaml: `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: metrics-test
    authorization:
      credentials: scrape-token
    static_configs:
      - targets: ['127.0.0.1:${port}']
`
  })
  t.teardown(() => prom.stop())
  const start = Date.now() / 1000 - 5

  // Traffic inside real sampled spans, as @o11y/tracing makes the request span active.
  const traceIds = new Set<string>()
  let stop = false
  const traffic = (async () => {
    let i = 0
    while (!stop) {
      await tracing.tracer.startActiveSpan('request', async (span) => {
        await app.inject(i % 3 === 0 ? { method: 'POST', url: '/api/orders', payload: {} } : { url: `/api/orders/${i}` })
        traceIds.add(span.spanContext().traceId)
        span.end()
      })
      i++
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  t.teardown(async () => { stop = true; await traffic })

  const rate = await prom.waitFor(async () => {
    const res = await prom.query('sum by (route) (rate(http_requests_total[1m]))')
    const routes = (res.result as Array<{ metric: { route?: string }, value: [number, string] }>).filter((s) => Number(s.value[1]) > 0).map((s) => s.metric.route)
    return routes.includes('/api/orders/:id') && routes.includes('/api/orders') ? routes : null
  }, { timeoutMs: 60_000, description: `rate by route (prometheus log: ${prom.logs().slice(-500)})` })
  t.same([...rate].sort(), ['/api/orders', '/api/orders/:id'], 'exactly the routes that got traffic (no raw ids, /metrics left out)')

  const p95 = await prom.query('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket[1m])))')
  const quantiles = (p95.result as Array<{ metric: { route: string }, value: [number, string] }>).map((s) => [s.metric.route, Number(s.value[1])] as const)
  t.same(quantiles.map(([r]) => r).sort(), ['/api/orders', '/api/orders/:id'])
  for (const [route, v] of quantiles) t.ok(Number.isFinite(v) && v > 0 && v <= 10, `p95 of ${route} is a finite latency (${v})`)

  const targets = await prom.targets()
  t.equal(targets.activeTargets[0]?.health, 'up', 'scrape with the bearer token succeeds')

  const exemplars = await prom.waitFor(async () => {
    const series = await prom.queryExemplars('http_request_duration_seconds_bucket', start, Date.now() / 1000 + 5)
    const found = series.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id))
    return found.length > 0 ? found : null
  }, { timeoutMs: 30_000, description: 'exemplars' })
  t.ok(exemplars.every((id) => id !== undefined && traceIds.has(id)), 'every exemplar carries the trace id of a span this test created')
  t.ok(exemplars.length >= 1)

  const counterEx = await prom.queryExemplars('http_requests_total', start, Date.now() / 1000 + 5)
  const counterIds = counterEx.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id))
  t.ok(counterIds.length > 0 && counterIds.every((id) => id !== undefined && traceIds.has(id)), 'the request counter carries exemplars too')
  t.ok(counterEx.every((s) => s.seriesLabels.job === 'metrics-test'))
})

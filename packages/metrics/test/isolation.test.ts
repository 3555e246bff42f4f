import Fastify, { type FastifyInstance } from 'fastify'
import { Counter, register as globalRegistry, Registry, collectDefaultMetrics } from 'prom-client'
import t from 'tap'
import { o11yMetrics } from '../src/index'
import { find, parseSamples, scrape } from './fixtures/helpers'

t.test('dozens of instances in one process never clash and never touch the global registry', async (t) => {
  const apps: FastifyInstance[] = []
  for (let i = 0; i < 40; i++) {
    const app = Fastify()
    await app.register(o11yMetrics)
    app.get('/n', async () => i)
    app.metrics.counter({ name: 'orders_created_total', help: 'x' }).inc(i)
    apps.push(app)
  }
  for (const [i, app] of apps.entries()) for (let k = 0; k <= i % 3; k++) await app.inject('/n')
  for (const [i, app] of apps.entries()) {
    const { samples } = await scrape(app)
    t.equal(find(samples, 'http_requests_total', { route: '/n' })[0]?.value, (i % 3) + 1)
    t.equal(find(samples, 'orders_created_total')[0]?.value, i)
  }
  t.same(globalRegistry.getMetricsAsArray(), [], 'the global registry stays empty')
  await Promise.all(apps.map((a) => a.close()))
})

t.test('onClose clears the instance registry', async (t) => {
  const app = Fastify()
  await app.register(o11yMetrics)
  app.metrics.counter({ name: 'x_total', help: 'x' })
  const registry = app.metrics.registry
  t.ok(registry.getMetricsAsArray().length > 10)
  await app.close()
  t.same(registry.getMetricsAsArray(), [])
})

t.test('a registry passed in is used; on close only our metrics are removed; it can be reused', async (t) => {
  const registry = new Registry()
  const mine = new Counter({ name: 'user_owned_total', help: 'x', registers: [registry] })
  mine.inc(4)
  collectDefaultMetrics({ register: registry, prefix: 'own_' })
  const app = Fastify()
  await app.register(o11yMetrics, { registry })
  app.get('/x', async () => 'ok')
  t.equal(app.metrics.registry, registry)
  await app.inject('/x')
  const text = await registry.metrics()
  t.match(text, /http_requests_total\{method="GET",route="\/x",status_code="200"\} 1/, 'prom-client can render our metric objects too')
  t.match(text, /user_owned_total 4/)
  await app.close()
  t.equal(registry.getSingleMetric('http_requests_total'), undefined)
  t.ok(registry.getSingleMetric('user_owned_total'))
  t.ok(registry.getSingleMetric('own_process_cpu_seconds_total'))

  const again = Fastify()
  t.teardown(() => again.close())
  await again.register(o11yMetrics, { registry })
  t.equal(find(parseSamples(await again.metrics.render()), 'user_owned_total')[0]?.value, 4)
})

t.test('two instances on one registry: O11Y_ERR_METRICS_REGISTRY_CONFLICT', async (t) => {
  const registry = new Registry()
  const a = Fastify()
  const b = Fastify()
  t.teardown(() => a.close())
  t.teardown(() => b.close())
  await a.register(o11yMetrics, { registry })
  await t.rejects(async () => { await b.register(o11yMetrics, { registry }) }, { code: 'O11Y_ERR_METRICS_REGISTRY_CONFLICT' })
})

t.test('a user registry that already has prom-client defaults keeps them', async (t) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const before = registry.getSingleMetric('process_cpu_seconds_total')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(o11yMetrics, { registry })
  t.equal(registry.getSingleMetric('process_cpu_seconds_total'), before)
  t.ok(registry.getSingleMetric('nodejs_eventloop_utilization_ratio'))
})

t.test('registry.resetMetrics() resets the request metrics', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(o11yMetrics)
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  app.metrics.registry.resetMetrics()
  const { samples } = await scrape(app)
  t.equal(find(samples, 'http_requests_total', { route: '/x' })[0]?.value, 0)
  t.equal(find(samples, 'http_request_duration_seconds_bucket', { route: '/x', le: '+Inf' })[0]?.value, 0)
})

t.test('the plugin works inside an encapsulated context and sees its routes', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(o11yMetrics)
  await app.register(async (child) => {
    child.get('/orders/:id', async () => 'ok')
  }, { prefix: '/api' })
  await app.inject('/api/orders/3')
  t.equal(find((await scrape(app)).samples, 'http_requests_total', { route: '/api/orders/:id' })[0]?.value, 1)
})

import t from 'tap'
import { tracked, type MetricsApi } from '../src/index'
import { buildApp, find, logCapture, scrape } from './fixtures/helpers'

t.test('counter, gauge and histogram land in the registry with the prefix; same name and shape returns the same metric', async (t) => {
  const app = await buildApp(t, { prefix: 'shop_' })
  const orders = app.metrics.counter({ name: 'orders_created_total', help: 'Orders created.', labelNames: [] })
  const again = app.metrics.counter({ name: 'orders_created_total', help: 'Other help is fine.', labelNames: [] })
  t.equal(again, orders)
  const pay = app.metrics.counter({ name: 'payments_processed_total', help: 'Payments.', labelNames: ['status', 'currency'] })
  t.equal(app.metrics.counter({ name: 'payments_processed_total', help: 'Payments.', labelNames: ['currency', 'status'] }), pay, 'label order does not matter')
  const value = app.metrics.histogram({ name: 'order_value_cents', help: 'Order value.', labelNames: ['currency'], buckets: [100, 1000, 10000] })
  t.equal(app.metrics.histogram({ name: 'order_value_cents', help: 'Order value.', labelNames: ['currency'], buckets: [100, 1000, 10000] }), value)
  const queue = app.metrics.gauge({ name: 'queue_depth', help: 'Queue depth.' })
  orders.inc()
  orders.inc(2)
  pay.inc({ status: 'succeeded', currency: 'EUR' })
  pay.labels('failed', 'USD').inc()
  value.observe({ currency: 'EUR' }, 2500)
  queue.set(7)
  t.equal(app.metrics.registry.getSingleMetric('shop_orders_created_total'), orders)

  const { samples } = await scrape(app)
  t.equal(find(samples, 'shop_orders_created_total')[0]?.value, 3)
  t.same(find(samples, 'shop_payments_processed_total').map((s) => [s.labels, s.value]), [
    [{ status: 'succeeded', currency: 'EUR' }, 1],
    [{ status: 'failed', currency: 'USD' }, 1]
  ])
  t.same(find(samples, 'shop_order_value_cents_bucket').map((s) => [s.labels.le, s.value]), [['100', 0], ['1000', 0], ['10000', 1], ['+Inf', 1]])
  t.equal(find(samples, 'shop_queue_depth')[0]?.value, 7)
  t.equal(find(samples, 'http_requests_total').length, 0, 'the prefix applies to business metrics only')
})

t.test('the same name with a different shape throws O11Y_ERR_METRICS_SHAPE_MISMATCH', async (t) => {
  const app = await buildApp(t)
  app.metrics.counter({ name: 'orders_total', help: 'x', labelNames: ['a'] })
  app.metrics.histogram({ name: 'latency_seconds', help: 'x', buckets: [1, 2] })
  t.throws(() => app.metrics.counter({ name: 'orders_total', help: 'x', labelNames: ['b'] }), { code: 'O11Y_ERR_METRICS_SHAPE_MISMATCH', message: /orders_total/ })
  t.throws(() => app.metrics.counter({ name: 'orders_total', help: 'x', labelNames: ['a', 'b'] }), { code: 'O11Y_ERR_METRICS_SHAPE_MISMATCH' })
  t.throws(() => app.metrics.gauge({ name: 'orders_total', help: 'x', labelNames: ['a'] }), { code: 'O11Y_ERR_METRICS_SHAPE_MISMATCH' })
  t.throws(() => app.metrics.histogram({ name: 'latency_seconds', help: 'x', buckets: [1, 3] }), { code: 'O11Y_ERR_METRICS_SHAPE_MISMATCH' })
  t.throws(() => app.metrics.histogram({ name: 'latency_seconds', help: 'x' }), { code: 'O11Y_ERR_METRICS_SHAPE_MISMATCH' }, 'default buckets differ from [1, 2]')
  t.throws(() => app.metrics.counter({ name: 'http_requests_total', help: 'x', labelNames: ['method', 'route', 'status_code'] }), { code: 'O11Y_ERR_METRICS_SHAPE_MISMATCH' }, 'built-in names are taken')
})

t.test('invalid definitions throw O11Y_ERR_METRICS_DEFINITION', async (t) => {
  const app = await buildApp(t)
  const bad: unknown[] = [null, 'x', {}, { name: 'ok_name' }, { name: 'bad-name', help: 'x' }, { name: 'x_total', help: 'x', labelNames: ['bad-label'] }, { name: 'x_total', help: 'x', labelNames: 'a' }, { name: 'x_total', help: 'x', labelNames: ['__reserved'] }]
  for (const def of bad) t.throws(() => app.metrics.counter(def as never), { code: 'O11Y_ERR_METRICS_DEFINITION' }, JSON.stringify(def))
  t.throws(() => app.metrics.histogram({ name: 'h', help: 'x', buckets: [2, 1] }), { code: 'O11Y_ERR_METRICS_DEFINITION' })
  t.throws(() => app.metrics.histogram({ name: 'h', help: 'x', labelNames: ['le'] }), { code: 'O11Y_ERR_METRICS_DEFINITION' })
  t.throws(() => app.metrics.gauge({ name: 'g', help: 'x', collect: 'nope' as never }), { code: 'O11Y_ERR_METRICS_DEFINITION' })
})

t.test('a custom metric used with bad values never throws into the request: logged once, counted', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, {}, { logger: { level: 'warn', stream: logs.stream } })
  const c = app.metrics.counter({ name: 'things_total', help: 'x', labelNames: ['kind'] })
  const h = app.metrics.histogram({ name: 'thing_size', help: 'x', labelNames: ['kind'], buckets: [1] })
  const g = app.metrics.gauge({ name: 'thing_level', help: 'x', labelNames: ['kind'] })
  app.get('/work', async () => {
    c.inc({ nope: 'x' } as never)
    c.inc({ kind: 'a' }, -1)
    h.observe({ kind: 'a' }, Number.NaN)
    h.labels({ kind: 'a' }).observe(Number.NaN)
    g.set({ kind: 'a' }, 'high' as never)
    c.labels('a', 'b').inc()
    const end = g.startTimer({ nope: 'x' } as never)
    end()
    return 'done'
  })
  for (let i = 0; i < 2; i++) {
    const res = await app.inject('/work')
    t.equal(res.statusCode, 200)
    t.equal(res.body, 'done')
  }
  const { samples } = await scrape(app)
  t.equal(find(samples, 'o11y_metrics_errors_total', { source: 'metric' })[0]?.value, 14)
  t.same(logs.lines.filter((l) => l.source === 'metric').map((l) => l.key).sort(), ['thing_level', 'thing_size', 'things_total'], 'logged once per metric')
  t.equal(find(samples, 'http_requests_total', { route: '/work' })[0]?.value, 2)
})

t.test('track wraps sync and async functions: calls by status and duration', async (t) => {
  const app = await buildApp(t)
  const add = app.metrics.track('add', (a: number, b: number) => a + b)
  const fail = app.metrics.track('fail', () => { throw new Error('nope') })
  const later = app.metrics.track('later', async (x: string) => { await new Promise((r) => setTimeout(r, 5)); return x.toUpperCase() })
  const reject = app.metrics.track('reject', async () => { throw new Error('async nope') })
  const obj = { factor: 3, times: app.metrics.track('times', function (this: { factor: number }, x: number) { return x * this.factor }) }
  t.equal(add(2, 3), 5)
  t.equal(add(1, 1), 2)
  t.throws(() => fail(), /nope/)
  t.equal(await later('ok'), 'OK')
  await t.rejects(reject(), /async nope/)
  t.equal(obj.times(2), 6, 'this is passed through')
  t.equal(add.name, 'add', 'the wrapper keeps a useful name')
  const { samples } = await scrape(app)
  t.same(find(samples, 'function_calls_total').map((s) => [s.labels.function, s.labels.status, s.value]), [
    ['add', 'success', 2],
    ['fail', 'error', 1],
    ['later', 'success', 1],
    ['reject', 'error', 1],
    ['times', 'success', 1]
  ])
  t.same(find(samples, 'function_duration_seconds_count').map((s) => [s.labels.function, s.value]), [['add', 2], ['fail', 1], ['later', 1], ['reject', 1], ['times', 1]])
  t.ok((find(samples, 'function_duration_seconds_sum', { function: 'later' })[0]?.value ?? 0) >= 0.004, 'async duration includes the await')
  t.throws(() => app.metrics.track('', () => 1), { code: 'O11Y_ERR_METRICS_TRACK' })
  t.throws(() => app.metrics.track('x', 'nope' as never), { code: 'O11Y_ERR_METRICS_TRACK' })
})

t.test('@tracked: a TypeScript 5 method decorator doing what track does', async (t) => {
  const app = await buildApp(t)
  let current: MetricsApi = app.metrics
  class Payments {
    rate = 2
    @tracked(() => current, 'charge_card')
    async charge (amount: number): Promise<number> {
      await new Promise((r) => setTimeout(r, 1))
      if (amount < 0) throw new Error('negative')
      return amount * this.rate
    }

    @tracked(app.metrics)
    refund (amount: number): number { return -amount }
  }
  const p = new Payments()
  t.equal(await p.charge(5), 10)
  await t.rejects(p.charge(-1), /negative/)
  t.equal(p.refund(3), -3)
  const { samples } = await scrape(app)
  t.same(find(samples, 'function_calls_total').map((s) => [s.labels.function, s.labels.status, s.value]), [
    ['charge_card', 'success', 1],
    ['charge_card', 'error', 1],
    ['refund', 'success', 1]
  ])

  const other = await buildApp(t)
  current = other.metrics
  await p.charge(1)
  t.equal(find((await scrape(other)).samples, 'function_calls_total', { function: 'charge_card' })[0]?.value, 1, 'the getter picks the current app')
  t.throws(() => tracked(null as never), { code: 'O11Y_ERR_METRICS_TRACK' })
  t.throws(() => tracked(app.metrics, ''), { code: 'O11Y_ERR_METRICS_TRACK' })
  const decorate = tracked(app.metrics)
  t.throws(() => decorate(() => 1, { kind: 'getter', name: 'x' } as never), { code: 'O11Y_ERR_METRICS_TRACK' })
})

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

t.test('one cardinality guard: 50,000 distinct values on a business counter give at most cap + 1 series, the overflow counted', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, { runtimeMetrics: false }, { logger: { level: 'warn', stream: logs.stream } })
  const logins = app.metrics.counter({ name: 'logins_total', help: 'Logins by user.', labelNames: ['user_id'] })
  for (let i = 0; i < 50_000; i++) logins.inc({ user_id: `u-${i}` })
  logins.inc({ user_id: 'u-7' }, 2)
  const { samples, text } = await scrape(app)
  const series = find(samples, 'logins_total')
  t.equal(series.length, 2001, 'the default cap (2000, the plugin\'s maxLabelSets) + the overflow series')
  t.equal(find(samples, 'logins_total', { user_id: 'u-7' })[0]?.value, 3, 'a label set within the cap keeps counting')
  t.equal(find(samples, 'logins_total', { user_id: '__overflow__' })[0]?.value, 48_000)
  t.equal(find(samples, 'o11y_metrics_overflow_total', { metric: 'logins_total' })[0]?.value, 48_000, 'every overflowed observation counted')
  t.equal(logs.lines.filter((l) => /reached maxLabelSets/.test(l.msg) && l.metric === 'logins_total').length, 1, 'logged once')
  t.ok(text.length < 200_000, `the scrape stays small (${text.length} bytes)`)
  console.log(`# 50,000 user ids on a business counter: ${series.length} series, ${text.length} bytes scraped, ${find(samples, 'o11y_metrics_overflow_total', { metric: 'logins_total' })[0]?.value ?? 0} observations counted as overflow`)
})

t.test('the cap per metric: maxLabelSets in the definition; labels(), startTimer, gauges, remove and reset', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, maxLabelSets: 100 })
  const h = app.metrics.histogram({ name: 'job_seconds', help: 'Jobs.', labelNames: ['job'], buckets: [1], maxLabelSets: 2 })
  const g = app.metrics.gauge({ name: 'queue_size', help: 'Queues.', labelNames: ['queue'], maxLabelSets: 1 })
  const c = app.metrics.counter({ name: 'hits_total', help: 'Hits.', labelNames: ['page'], maxLabelSets: 2 })
  h.observe({ job: 'a' }, 0.5)
  h.labels('b').observe(0.5)
  h.labels({ job: 'c' }).observe(0.5) // over the cap
  h.startTimer({ job: 'd' })() // over the cap, through the timer
  g.set({ queue: 'q1' }, 3)
  g.set({ queue: 'q2' }, 4) // over the cap
  g.labels('q3').inc() // over the cap, through a child
  c.inc({ page: '/a' })
  c.inc({ page: '/b' })
  c.remove({ page: '/b' }) // frees its slot
  c.inc({ page: '/c' })
  c.labels('/d').inc() // over the cap
  const first = await scrape(app)
  t.same(find(first.samples, 'job_seconds_count').map((s) => [s.labels.job, s.value]), [['a', 1], ['b', 1], ['__overflow__', 2]])
  t.same(find(first.samples, 'queue_size').map((s) => [s.labels.queue, s.value]), [['q1', 3], ['__overflow__', 5]], 'set 4, then inc 1, both on the overflow series')
  t.same(find(first.samples, 'hits_total').map((s) => [s.labels.page, s.value]), [['/a', 1], ['/c', 1], ['__overflow__', 1]])
  t.same(find(first.samples, 'o11y_metrics_overflow_total').map((s) => [s.labels.metric, s.value]), [['job_seconds', 2], ['queue_size', 2], ['hits_total', 1]])
  c.reset()
  c.inc({ page: '/x' })
  c.inc({ page: '/y' })
  const second = await scrape(app)
  t.same(find(second.samples, 'hits_total').map((s) => [s.labels.page, s.value]), [['/x', 1], ['/y', 1]], 'reset frees every slot')
})

t.test('track metrics and metrics without labels are guarded too; a bad maxLabelSets is a definition error', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, maxLabelSets: 3 })
  for (let i = 0; i < 10; i++) app.metrics.track(`fn_${i}`, () => i)()
  const plain = app.metrics.counter({ name: 'plain_total', help: 'No labels.' })
  for (let i = 0; i < 10; i++) plain.inc()
  const { samples } = await scrape(app)
  t.equal(find(samples, 'function_calls_total').length, 4, '3 functions + overflow')
  t.equal(find(samples, 'function_calls_total', { function: '__overflow__' })[0]?.value, 7)
  t.equal(find(samples, 'plain_total')[0]?.value, 10)
  for (const bad of [0, 1.5, -1, '10', 2_000_000]) {
    t.throws(() => app.metrics.counter({ name: 'capped_total', help: 'x', labelNames: ['a'], maxLabelSets: bad as number }), { code: 'O11Y_ERR_METRICS_DEFINITION', message: /maxLabelSets/ }, String(bad))
  }
})
